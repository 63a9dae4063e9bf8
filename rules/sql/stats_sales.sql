-- The recomputed year's sales (stat_year) replace the stored ones: every figure is computed from
-- st_sales (all years), so a release that touched one year costs that year's dedupe only.
create table if not exists st_sales as from sales limit 0;
delete from st_sales where annee = getvariable('stat_year');
insert into st_sales from sales;
