-- The line and mutation id of each staged row of an Etalab geo-dvf file (its ids are Etalab's), by
-- staged's rowid (`rid`, what incoming_rows.sql joins on). A view, as staged_ids_whole.sql.
create or replace temp view staged_ids as
select rowid as rid, (rowid - (select min(rowid) from staged) + 2)::bigint as line, id_mutation
from staged;
