-- Each stored part (one year of one commune's rows, by the code DVF gives; '' for rows without
-- one) with a signature that changes whenever its rows do: only an import changes rows, it
-- replaces a commune's half-year whole and gives the new rows its batch id, larger than any before
-- (next_batch.sql), so a part that gained rows has a larger max(batch_id) and one that only lost
-- rows a smaller count. What tells the statistics pass which communes' sales a release touched,
-- and in which years. (Numbers only: 0.3 s at France scale, where a list of batches took 1.9 s.)
create or replace temp table st_parts as
select
    annee::integer as annee,
    coalesce(code_commune, '') as part,
    concat_ws('/', count(*), min(batch_id), max(batch_id), sum(batch_id)) as signature
from dvf_rows
group by all;
