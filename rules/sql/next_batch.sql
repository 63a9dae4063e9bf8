-- The id of the next import batch (failed attempts count: their rows in update_log keep their id).
select coalesce(max(batch_id), 0) + 1 from update_log;
