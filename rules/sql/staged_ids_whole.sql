-- The line and mutation id of each staged row of a raw DGFiP file staged whole, by staged's rowid
-- (`rid`, what incoming_rows.sql joins on; file_keys_staged.sql gives line_ids.sql staged's rowid):
-- as part_ids.sql gives them, without its join. A view: its readers (the first bad row, the rows
-- that go in) join it to staged once each, and a table of 3.5 million ids held 0.13 GB until the
-- file's commit, which made the store's insert spill under memory_limit (2026-12-07).
create or replace temp view staged_ids as
select rid, raw_line(rid) as line, raw_mutation_id(mutation) as id_mutation
from line_ids;
