-- One DGFiP ValeursFoncieres file's data lines, whole, in file order, as DuckDB reads them: LF or
-- CRLF detected, each line's UTF-8 checked, a blank line a null row (a line of no field for
-- raw_lines.sql). The one column's delimiter is U+0001, which DVF never writes: a line holding one
-- fails the read (store.py says so). A view: a file staged whole is read once, through it, by
-- staged.sql (lines_all.sql); one staged in part is first kept as a table (file_lines.sql).
create or replace temp view file_text as
select l
from read_csv(
    getvariable('src'), columns = {'l': 'varchar'}, delim = chr(1), quote = '', escape = '',
    header = true, auto_detect = false, strict_mode = true
);
