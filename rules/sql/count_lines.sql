-- Rows DuckDB read from the staged file: must equal its data lines.
select count(*) from staged;
