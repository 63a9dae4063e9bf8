-- Rows DuckDB read from the staged file (raw_lines or geo_lines): must equal its data lines.
select count(*) from query_table(getvariable('lines_view'));
