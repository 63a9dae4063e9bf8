-- The periods (year, half-year, department) the file being imported covers (file_periods.sql put
-- them in batch_periods): what it replaces. replaced_rows.sql, outside_rows.sql,
-- part_digests_drop.sql and open_parts.sql read them.
create or replace temp view covered_periods as
select distinct annee, semestre, code_departement
from batch_periods
where source_sha256 = getvariable('source_sha256');
