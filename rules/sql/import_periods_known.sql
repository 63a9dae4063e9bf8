-- Whether the store has its import_periods table: a store made before it (or restored from git,
-- whose history does not carry it) gets it filled from its rows (import_periods_fill.sql).
select count(*) > 0 from duckdb_tables() where table_name = 'import_periods' and not temporary;
