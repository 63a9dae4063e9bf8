-- Stored rows whose commune code is in no referential (current, arrondissement or former).
create or replace temp table unknown_communes as
select coalesce(d.code_commune, '') as code, count(*)::integer as rows
from dvf_rows d
anti join communes c on c.code = d.code_commune
group by all;
