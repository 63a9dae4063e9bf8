-- A raw file's lines (file_text.sql) kept in file order (by rowid), each with a 64-bit hash of its
-- text (`lh`: what part digests are made of, see file_digests.sql), when the file is staged in
-- part: line_keys.sql reads them all, then lines_wanted.sql those of the parts that may change.
create or replace temp table file_lines as
select l, hash(l) as lh
from file_text;
