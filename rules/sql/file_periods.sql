-- The periods (year, half-year, department) the file covers: what it replaces.
insert into batch_periods
select distinct source_file, source_sha256, annee, semestre, code_departement
from incoming_rows;
