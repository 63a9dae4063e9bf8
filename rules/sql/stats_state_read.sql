-- The state the stored statistics were computed from (see stats_state.sql).
select annee, signature, key from stats_state order by annee;
