-- The staged rows leave with their in-memory database once the partitions are written (or not).
detach database if exists history_scratch;
