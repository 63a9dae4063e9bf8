-- The recomputed year's funnel (stat_year) replaces the stored one.
create table if not exists st_funnel as from filter_funnel limit 0;
delete from st_funnel where annee::integer = getvariable('stat_year');
insert into st_funnel from filter_funnel;
