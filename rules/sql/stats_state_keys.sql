-- The digests the stored statistics were computed with (see stats_state.sql): one, or none
-- before the first pass ('' for a pass killed before its documents were written).
select distinct key from stats_part_state;
