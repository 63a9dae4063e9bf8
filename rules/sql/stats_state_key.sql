-- The documents of the stored figures are written: record the digest they were computed with (?).
update stats_part_state set key = ?;
