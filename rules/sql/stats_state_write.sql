-- Record what the statistics just committed were computed from: every part's signature, with no
-- digest until the documents are written (stats_state_key.sql). The cut parts are recomputed.
delete from stats_part_state;
insert into stats_part_state select annee, part, signature, '' from st_parts;
delete from cut_parts;
