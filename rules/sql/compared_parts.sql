-- The parts (year, half-year, department, commune) the import compares, on either side (see
-- period_rows.sql), with the hash period_rows gives them: what changed_parts.sql names, and their
-- count (those the file does not change keep their stored rows). Grouped on the four columns too:
-- should two parts ever share a hash, both are named (and, as the hash is all changed_parts.sql
-- compares, both are changed and rewritten), rather than one standing for both and the other's new
-- rows left out.
create or replace temp table compared_parts as
select distinct part, annee, semestre, code_departement, code_commune
from period_rows;
