-- What the last committed statistics pass was computed from: each part's signature (see
-- stats_parts.sql) and the digest of everything global (method, window, scope, referential, the
-- code of the pass). A pass that finds the same digest recomputes only the parts whose signature
-- moved. `stats_state` (by year) is what this table replaced: where it exists, an older version
-- ran after this one and rebuilt the st_* tables in its own shape, so no stored state is trusted.
create table if not exists stats_part_state (annee integer, part varchar, signature varchar, key varchar);
delete from stats_part_state
where exists (select 1 from duckdb_tables() where table_name = 'stats_state' and not temporary);
drop table if exists stats_state;
