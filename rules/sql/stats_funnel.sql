-- The recomputed parts' funnel (filter_funnel.sql: the parts st_year_parts lists) replaces their
-- stored one.
create table if not exists st_funnel as from filter_funnel limit 0;
delete from st_funnel
where annee = getvariable('stat_year') and part in (select part from st_year_parts);
insert into st_funnel from filter_funnel;
