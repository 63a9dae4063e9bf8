-- After a batch, committed or not, and after file_cleanup.sql: the batch's own working table.
drop table if exists batch_periods;
