-- The file's rows of the parts it changes go into the store (see changed_parts.sql): the other
-- parts keep their stored rows.
insert into dvf_rows
select * from changed_part_rows('incoming_rows');
