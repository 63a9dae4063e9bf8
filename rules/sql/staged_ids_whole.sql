-- The line and mutation id of each staged row of a raw DGFiP file staged whole, by staged's rowid
-- (`rid`, what incoming_rows.sql joins on; file_keys_staged.sql gives line_ids.sql staged's rowid):
-- as staged_ids_part.sql gives them, without its join (0.5 s of a 3.5-million-line file).
create or replace temp table staged_ids as
select
    rid,
    (rid - (select min(rid) from line_ids) + 2)::bigint as line,
    (select right(date_text, 4) from file_keys order by rid limit 1) || '-' || mutation as id_mutation
from line_ids;
