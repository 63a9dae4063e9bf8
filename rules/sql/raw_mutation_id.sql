-- A raw DGFiP file's mutation id from its number (line_ids.sql), as Etalab's geo-dvf builder makes
-- it: '<year of the file's first line>-<number>'. Made once file_keys names the file's lines (a
-- macro is bound when it is made); staged_ids_whole.sql and part_ids.sql read it, so a mutation has
-- one id whether the file is staged whole or in part.
create or replace temp macro raw_mutation_id(number) as
(select right(k.date_text, 4) from file_keys k order by k.rid limit 1) || '-' || number;
