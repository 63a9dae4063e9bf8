-- Rebuilding the store from the history branch: every partition's rows.
insert into dvf_rows by name select * from read_parquet(?);
