-- Rows DuckDB read from the file (file_keys: staged, or every line of a raw file staged in part):
-- must equal its data lines.
select count(*) from file_keys;
