-- The stored rows the file replaces (see replaced_rows) leave the store.
delete from dvf_rows where rowid in (select row_id from replaced_rows);
