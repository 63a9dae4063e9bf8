-- The line number, in its file, of a raw DGFiP file's line given by its rid in file_keys (the
-- header is line 1). Counted from the file's first rid: a table made within a transaction numbers
-- its rows from a large offset. Made once file_keys names the file's lines (a macro is bound when
-- it is made); staged_ids_whole.sql and part_ids.sql read it, so a line has one number whether
-- the file is staged whole or in part.
create or replace temp macro raw_line(line_rid) as
(line_rid - (select min(k.rid) from file_keys k) + 2)::bigint;
