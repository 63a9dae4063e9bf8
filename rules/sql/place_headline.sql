-- Headline figures per place and type over the window (the last N calendar years), as Etalab's
-- whole-period figures: count, median and mean price per m2, quartiles, surfaces, median price.
create or replace temp table place_headline as
select
    level,
    code,
    type,
    count(*)::integer as n,
    round(median(prix_m2))::integer as median_m2,
    round(avg(prix_m2))::integer as mean_m2,
    round(quantile_cont(prix_m2, 0.25))::integer as q1_m2,
    round(quantile_cont(prix_m2, 0.75))::integer as q3_m2,
    round(median(surface_reelle_bati), 1)::double as median_surface,
    round(avg(surface_reelle_bati), 1)::double as mean_surface,
    round(median(valeur_fonciere))::bigint as median_price
from place_sales
where annee between getvariable('window_from') and getvariable('window_to')
group by all;
