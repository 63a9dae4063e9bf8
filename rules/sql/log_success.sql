-- update_log: one imported file of a batch that committed.
insert into update_log (
    batch_id, source_file, sha256, source_format, rows_imported, rows_replaced, rows_unknown_commune,
    started, completed, status, rows_added, rows_removed
)
values (?, ?, ?, ?, ?, ?, ?, ?, ?, 'success', ?, ?);
