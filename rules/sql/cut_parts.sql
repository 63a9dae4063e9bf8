-- Parts (a commune's year) whose rows an import kept while it deleted other rows of one of their
-- mutations: a sale across departments, part of it in a period the file did not cover. Their
-- rows did not change, so their signature did not move (stats_parts.sql), but their sales may
-- have: the half of a sale left alone can become a single-good sale. The statistics pass
-- recomputes them with the changed parts (stats_changed.sql), then empties this table.
create table if not exists cut_parts (annee integer, part varchar);
