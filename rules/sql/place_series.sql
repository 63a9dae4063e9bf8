-- Monthly, quarterly and yearly series per place and type, over the whole history: volume and
-- median price per m2 (medians are published later only where the volume allows).
create or replace temp table place_series as
select
    level,
    code,
    type,
    g.grain,
    g.period,
    count(*)::integer as n,
    round(median(prix_m2))::integer as median_m2
from place_sales,
    unnest([
        {'grain': 'annee', 'period': strftime(date_mutation, '%Y')},
        {'grain': 'trimestre', 'period': strftime(date_mutation, '%Y') || '-T' || quarter(date_mutation)},
        {'grain': 'mois', 'period': strftime(date_mutation, '%Y-%m')}
    ]) as u(g)
group by all;
