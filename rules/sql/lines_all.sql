-- The lines raw_lines.sql splits and staged.sql types: all of the file's, read from the file as
-- staged.sql reads them (see lines_wanted.sql), each with the hash of its text (`lh`, see
-- file_lines.sql). Kept first as a table, they cost a cold import 0.5 s and 0.5 GB a file.
create or replace temp view staged_lines as
select null::bigint as file_rid, l, hash(l) as lh
from file_text;
