-- The line and mutation id of each staged row of a raw DGFiP file staged in part (part_ids.sql), by
-- staged's rowid: a view under the name the readers join, as staged_ids_whole.sql and
-- staged_ids_geo.sql for the other files.
create or replace temp view staged_ids as
from part_ids;
