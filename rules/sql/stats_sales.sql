-- The recomputed sales of the year (stat_year), those of the parts st_year_parts lists, replace
-- the stored ones: every figure is computed from st_sales (all years), so a release costs the
-- dedupe of the communes it touched only. Inserted by commune: the figures group by place, and
-- rows of one place side by side made a full France pass's place steps 2 s faster (the same rows).
create table if not exists st_sales as from sales limit 0;
delete from st_sales
where annee = getvariable('stat_year') and code_commune in (select part from st_year_parts);
insert into st_sales from sales order by commune, code_commune;
