-- The parts (year, half-year, department, commune) the import compares, on either side (see
-- period_rows.sql), by the hash period_rows gives them: what changed_parts.sql names, and their
-- count (those the file does not change keep their stored rows).
create or replace temp table compared_parts as
select
    part,
    any_value(annee) as annee,
    any_value(semestre) as semestre,
    any_value(code_departement) as code_departement,
    any_value(code_commune) as code_commune
from period_rows
group by part;
