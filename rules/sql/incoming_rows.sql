-- One file's rows as the store holds them (dvf_rows' columns, in their order): staged with its lines
-- and mutation ids (joined on staged's rowid: a positional join runs on one thread, and made the
-- insert of a release's changed rows 3x slower), and the batch's constants. Its readers (the
-- periods the file covers and changes, then the rows that go in) read typed rows, never the file.
create or replace temp view incoming_rows as
select
    getvariable('batch_id')::integer as batch_id,
    getvariable('source_file') as source_file,
    getvariable('source_sha256') as source_sha256,
    getvariable('source_format') as source_format,
    i.line::integer as source_line,
    i.id_mutation,
    s.* exclude (file_rid, lh, id_mutation, price_text, date_text, bad)
from staged s
join staged_ids i on i.rid = s.rowid;
