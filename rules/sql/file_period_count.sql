-- How many periods (year, half-year, department) the file covers (see file_periods.sql).
select count(*) from batch_periods where source_sha256 = getvariable('source_sha256');
