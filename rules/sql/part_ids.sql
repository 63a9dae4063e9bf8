-- The line and mutation id of each staged row of a raw DGFiP file staged in part, by staged's rowid
-- (`rid`): line_ids.sql numbers every line of the file, staged or not, so a partial import's lines
-- and ids (raw_line.sql, raw_mutation_id.sql) are those of a whole one. A table: staged holds a
-- release's few changed lines, and its readers would each join them to the file's 3.5 million
-- numbered lines again. staged_ids_part.sql names it.
create or replace temp table part_ids as
select s.rowid as rid, raw_line(s.file_rid) as line, raw_mutation_id(i.mutation) as id_mutation
from staged s
join line_ids i on i.rid = s.file_rid;
