-- How many parts (year, half-year, department, commune) the import compares, on either side (see
-- period_rows.sql): those it does not change keep their stored rows.
select count(*)
from (select distinct annee, semestre, code_departement, code_commune from period_rows);
