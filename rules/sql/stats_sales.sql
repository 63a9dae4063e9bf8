-- The recomputed years' sales replace the stored ones: every figure is computed from st_sales
-- (all years), so a release that touched one year costs that year's dedupe, not the history's.
create table if not exists st_sales as from sales limit 0;
delete from st_sales where list_contains(getvariable('stat_years'), annee);
insert into st_sales from sales;
