-- Rows line_ids.sql numbered out of the file's order (each row's rid must follow the one before):
-- none, or the mutation numbers would be wrong; store.py stops the import if there is one.
select count(*) from line_ids where previous is not null and rid <> previous + 1;
