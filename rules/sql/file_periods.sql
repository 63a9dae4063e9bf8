-- The periods (year, half-year, department) the file covers: what it replaces. Read from staged
-- (its rows are incoming_rows' rows), without incoming_rows' join to the mutation ids.
insert into batch_periods
select distinct getvariable('source_file'), getvariable('source_sha256'), annee, semestre, code_departement
from staged;
