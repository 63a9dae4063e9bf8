-- Seasonality: sales per calendar month (1-12) per place and type, over the window.
create or replace temp table place_seasonality as
select level, code, type, month(date_mutation)::integer as mois, count(*)::integer as n
from place_sales
where annee between getvariable('window_from') and getvariable('window_to')
group by all;
