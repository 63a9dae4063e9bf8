-- The places whose figures this pass recomputes (stats_dirty.sql fills it, year by year); a full
-- pass recomputes every place and leaves it empty.
create or replace temp table st_dirty (level varchar, code varchar);
