-- The staged rows are dropped once their partitions are written.
drop table if exists history_scratch.history_rows;
