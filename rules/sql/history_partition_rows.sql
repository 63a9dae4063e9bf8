-- One period's rows (history_partition) in their total order (a source line is one row).
select * from history_partition_rows order by source_sha256, source_line;
