-- What the last committed statistics pass was computed from: each year's signature (see
-- stats_years.sql) and the digest of everything global (method, window, scope, referential, the
-- code of the pass). A pass that finds the same digest recomputes only the years whose
-- signature moved.
create table if not exists stats_state (annee integer, signature varchar, key varchar);
