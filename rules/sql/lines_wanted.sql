-- The lines raw_lines.sql splits and staged.sql types, when the store knows the file's year by its
-- parts' digests (see candidate_parts.sql): those of the parts the file may change, in file order.
-- The other lines are, as text, those of an import that stored their parts' rows: they are neither
-- typed nor checked again.
create or replace temp view staged_lines as
select rowid as file_rid, l, lh
from file_lines
where rowid in (select rid from wanted_lines);
