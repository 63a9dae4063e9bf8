-- update_log: a file that was not imported, and why (its batch rolled back, or nothing was read).
insert into update_log (batch_id, source_file, sha256, source_format, started, completed, status, error)
values (?, ?, ?, ?, ?, ?, 'failed', ?);
