-- Rebuilding the store from the history branch: the import log (older logs lack newer columns).
insert into update_log by name select * from read_parquet(?);
