-- The import log as the history branch keeps it, in a stable order.
select * from update_log order by batch_id, source_file, started;
