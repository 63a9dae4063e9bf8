-- The periods (year, half-year, department) the file just stored covers: what it replaces.
insert into batch_periods
select distinct source_file, source_sha256, annee, semestre, code_departement
from dvf_rows
where batch_id = getvariable('batch_id') and source_sha256 = getvariable('source_sha256');
