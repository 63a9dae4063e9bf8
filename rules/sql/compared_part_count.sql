-- How many parts (year, half-year, department, commune) the import compares (compared_parts.sql).
select count(*) from compared_parts;
