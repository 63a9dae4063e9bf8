-- A full pass recomputes every place: the set of changed places is not needed (empty).
create or replace temp table st_dirty (level varchar, code varchar);
