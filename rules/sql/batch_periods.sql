-- The periods a batch replaces: each (year, half-year, department) present in its rows, by file.
create or replace temp view batch_periods as
select distinct source_file, source_sha256, annee, semestre, code_departement
from batch_rows;
