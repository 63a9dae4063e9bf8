-- Headline figures per place and type over the window (the last N calendar years), as Etalab's
-- whole-period figures: count, median and mean price per m2, quartiles, mean and median surface.
-- The three quantiles share one aggregate state (a list), which matters at France scale.
-- Communes (and cities) are many small groups: each is counted, and the holistic aggregates
-- (median, quartiles) run only where a figure can be published (n >= grade_min); at France scale,
-- holding every small group's values for an unpublishable median is what exhausts memory, and
-- nothing published changes. Departments, regions and France are a few hundred large groups:
-- counted and measured in one pass, their figures then cleared below grade_min as the communes'
-- are (a count and a semi join of their millions of rows cost a release as much again).
create or replace temp table place_headline as
with windowed as not materialized (
    select level, code, type, prix_m2, surface_reelle_bati
    from place_sales
    where annee between getvariable('window_from') and getvariable('window_to')
),
counts as (
    select level, code, type, count(*)::integer as n
    from windowed
    where level = 'commune'
    group by all
),
quantiles as (
    select
        level,
        code,
        type,
        quantile_cont(prix_m2, [0.25, 0.5, 0.75]) as q,
        round(avg(prix_m2))::integer as mean_m2,
        round(median(surface_reelle_bati), 1)::double as median_surface,
        round(avg(surface_reelle_bati), 1)::double as mean_surface
    from windowed
    semi join (select level, code, type from counts where n >= getvariable('grade_min')) big
        using (level, code, type)
    where level = 'commune'
    group by all
),
parents as (
    select
        level,
        code,
        type,
        count(*)::integer as n,
        quantile_cont(prix_m2, [0.25, 0.5, 0.75]) as q,
        round(avg(prix_m2))::integer as mean_m2,
        round(median(surface_reelle_bati), 1)::double as median_surface,
        round(avg(surface_reelle_bati), 1)::double as mean_surface
    from windowed
    where level <> 'commune'
    group by all
),
figures as (
    select c.level, c.code, c.type, c.n, f.q, f.mean_m2, f.median_surface, f.mean_surface
    from counts c
    left join quantiles f using (level, code, type)
    union all
    select
        level, code, type, n,
        if(n >= getvariable('grade_min'), q, null),
        if(n >= getvariable('grade_min'), mean_m2, null),
        if(n >= getvariable('grade_min'), median_surface, null),
        if(n >= getvariable('grade_min'), mean_surface, null)
    from parents
)
select
    level, code, type, n,
    round(q[2])::integer as median_m2, mean_m2, round(q[1])::integer as q1_m2,
    round(q[3])::integer as q3_m2, median_surface, mean_surface
from figures;
