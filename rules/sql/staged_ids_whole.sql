-- The line and mutation id of each staged row of a raw DGFiP file staged whole, by staged's rowid
-- (`rid`, what incoming_rows.sql joins on; file_keys_staged.sql gives line_ids.sql staged's rowid):
-- as staged_ids_part.sql gives them, without its join. A view: its readers (the first bad row, the
-- rows that go in) join it to staged once each, and a table of 3.5 million ids held 0.13 GB until
-- the file's commit, which made the store's insert spill under memory_limit (2026-12-07).
create or replace temp view staged_ids as
select
    rid,
    (rid - (select min(rid) from line_ids) + 2)::bigint as line,
    (select right(date_text, 4) from file_keys order by rid limit 1) || '-' || mutation as id_mutation
from line_ids;
