-- The periods (year, half-year, department) the file covers: what it replaces. Read from its lines
-- (file_keys: staged, or every line of a raw file staged in part), without incoming_rows' join to
-- the mutation ids.
insert into batch_periods
select distinct getvariable('source_file'), getvariable('source_sha256'), annee, semestre, code_departement
from file_keys;
