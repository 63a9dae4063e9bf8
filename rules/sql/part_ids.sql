-- The line and mutation id of each staged row of a raw DGFiP file staged in part, by staged's rowid
-- (`rid`): id = '<year of the file's first line>-<its mutation's number>' (line_ids.sql numbers
-- every line of the file, staged or not, so a partial import's ids are those of a whole one).
-- Lines are counted from the file's first rid: a table made within a transaction numbers its rows
-- from a large offset. A table: staged holds a release's few changed lines, and its readers would
-- each join them to the file's 3.5 million numbered lines again. staged_ids_part.sql names it.
create or replace temp table part_ids as
select
    s.rowid as rid,
    (s.file_rid - (select min(rid) from file_keys) + 2)::bigint as line,
    (select right(date_text, 4) from file_keys order by rid limit 1) || '-' || i.mutation as id_mutation
from staged s
join line_ids i on i.rid = s.file_rid;
