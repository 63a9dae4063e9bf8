-- Monthly, quarterly and yearly series per place and type, over the whole history: the volume
-- of every period, and its median price per m2 where the volume allows publishing it.
-- Volumes are counted once per month and summed up to quarters and years (on integer keys, not
-- strings); a commune's medians, which cannot be summed, are computed only for groups of at least
-- grade_min sales, so the 35,000 communes' many small months cost a count, not a median. The
-- departments', regions' and France's large groups are counted and measured in one pass per
-- grain, their medians then cleared below grade_min. Only the years being recomputed
-- (stat_years): a place's other years keep their stored series.
create or replace temp table place_series as
with keyed as not materialized (
    select level, code, type, prix_m2, year(date_mutation) as y, month(date_mutation) as m
    from place_sales
    where list_contains(getvariable('stat_years'), annee)
),
monthly as (
    select level, code, type, y, m, count(*)::integer as n
    from keyed
    where level = 'commune'
    group by all
),
counts as (
    select level, code, type, 'mois' as grain, y * 100 + m as k, n from monthly
    union all
    select level, code, type, 'trimestre', y * 10 + (m + 2) // 3, sum(n)::integer from monthly group by all
    union all
    select level, code, type, 'annee', y, sum(n)::integer from monthly group by all
),
big as (
    select level, code, type, grain, k from counts where n >= getvariable('grade_min')
),
medians as (
    select level, code, type, 'mois' as grain, y * 100 + m as k, round(median(prix_m2))::integer as median_m2
    from keyed semi join (select level, code, type, k from big where grain = 'mois') b
        on b.level = keyed.level and b.code = keyed.code and b.type = keyed.type and b.k = keyed.y * 100 + keyed.m
    where keyed.level = 'commune'
    group by all
    union all
    select level, code, type, 'trimestre', y * 10 + (m + 2) // 3, round(median(prix_m2))::integer
    from keyed semi join (select level, code, type, k from big where grain = 'trimestre') b
        on b.level = keyed.level and b.code = keyed.code and b.type = keyed.type
       and b.k = keyed.y * 10 + (keyed.m + 2) // 3
    where keyed.level = 'commune'
    group by all
    union all
    select level, code, type, 'annee', y, round(median(prix_m2))::integer
    from keyed semi join (select level, code, type, k from big where grain = 'annee') b
        on b.level = keyed.level and b.code = keyed.code and b.type = keyed.type and b.k = keyed.y
    where keyed.level = 'commune'
    group by all
),
parents as (
    select level, code, type, 'mois' as grain, y * 100 + m as k, count(*)::integer as n,
        round(median(prix_m2))::integer as median_m2
    from keyed
    where level <> 'commune'
    group by all
    union all
    select level, code, type, 'trimestre', y * 10 + (m + 2) // 3, count(*)::integer,
        round(median(prix_m2))::integer
    from keyed
    where level <> 'commune'
    group by all
    union all
    select level, code, type, 'annee', y, count(*)::integer, round(median(prix_m2))::integer
    from keyed
    where level <> 'commune'
    group by all
),
figures as (
    select c.level, c.code, c.type, c.grain, c.k, c.n, m.median_m2
    from counts c
    left join medians m using (level, code, type, grain, k)
    union all
    select level, code, type, grain, k, n, if(n >= getvariable('grade_min'), median_m2, null)
    from parents
)
select
    level, code, type, grain,
    case grain
        when 'mois' then (k // 100)::varchar || '-' || lpad((k % 100)::varchar, 2, '0')
        when 'trimestre' then (k // 10)::varchar || '-T' || (k % 10)::varchar
        else k::varchar
    end as period,
    n,
    median_m2
from figures;
