-- The rows of one stored period, found by their rowid range in the staged rows (history_stage;
-- the department holds whatever that range is), copied into a table of their own, which
-- history_partition_rows reads in order. DuckDB's Parquet writer writes a column's definition
-- levels differently when the vectors it reads carry a validity mask, and a vector of the staged
-- rows carries one when any row near it, of another department, has a NULL there: read from
-- their own table, a period's bytes depend on its rows only.
create or replace temp table history_partition_rows as
select *
from history_scratch.history_rows
where rowid between getvariable('first_row') and getvariable('last_row')
  and code_departement is not distinct from getvariable('departement');
