-- The stored rows of the parts the file changes leave the store (it brings their new rows).
delete from dvf_rows
where rowid in (select row_id from leaving_rows);
