-- An in-memory database for the rows being exported: a temporary table would be visible to this
-- connection only, and the partitions are written by several (one per core).
attach if not exists ':memory:' as history_scratch;
