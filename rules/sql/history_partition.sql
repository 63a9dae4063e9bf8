-- The rows of one stored period in a total order (a source line is one row), so its Parquet
-- bytes depend on its rows only. The rowid range finds them in the staged rows (history_stage);
-- the department and the order by hold whatever that range is.
select *
from history_scratch.history_rows
where rowid between getvariable('first_row') and getvariable('last_row')
  and code_departement is not distinct from getvariable('departement')
order by source_sha256, source_line;
