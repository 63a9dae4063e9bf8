-- The places whose sales changed in the year being recomputed (stat_year): the communes (and
-- cities) of every sale that the new `sales` (the year's changed parts) holds and the stored
-- ones of those parts do not, or the other way round (multisets compared by a hash of the whole
-- row), with their departments, regions and France. Only these places' figures are computed
-- again; every other place keeps its stored ones.
insert into st_dirty
with rows as (
    select commune, city, departement, region, hash(*columns(*)) as h, 1 as d from sales
    union all
    select commune, city, departement, region, hash(*columns(*)), -1 from st_sales
    where annee = getvariable('stat_year')
      and code_commune in (select part from st_year_parts)
),
changed as (
    select commune, city, departement, region
    from rows
    group by commune, city, departement, region, h
    having sum(d) <> 0
)
select distinct u.p.level, u.p.code
from changed,
    unnest([
        {'level': 'commune', 'code': commune},
        {'level': 'commune', 'code': city},
        {'level': 'departement', 'code': departement},
        {'level': 'region', 'code': region},
        {'level': 'france', 'code': 'FR'}
    ]) as u(p)
where u.p.code is not null;
