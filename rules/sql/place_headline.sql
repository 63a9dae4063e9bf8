-- Headline figures per place and type over the window (the last N calendar years), as Etalab's
-- whole-period figures: count, median and mean price per m2, quartiles, mean and median surface.
-- The three quantiles share one aggregate state (a list), which matters at France scale.
-- Every group is counted, and its figures are published only from grade_min sales. Communes (and
-- cities) are many small groups: the holistic aggregates (median, quartiles) run only on those
-- that can be published; at France scale, holding every small group's values for an unpublishable
-- median is what exhausts memory. Departments, regions and France are a few hundred large groups,
-- counted and measured in one aggregation: a count and a semi join of their millions of rows first
-- cost a release as much again.
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
measured as (
    select
        level,
        code,
        type,
        count(*)::integer as n,
        quantile_cont(prix_m2, [0.25, 0.5, 0.75]) as q,
        round(avg(prix_m2))::integer as mean_m2,
        round(median(surface_reelle_bati), 1)::double as median_surface,
        round(avg(surface_reelle_bati), 1)::double as mean_surface
    from (
        from windowed
        semi join (select level, code, type from counts where n >= getvariable('grade_min')) big
            using (level, code, type)
        where level = 'commune'
        union all
        from windowed
        where level <> 'commune'
    )
    group by all
),
groups as (
    select level, code, type, n from counts
    union all
    select level, code, type, n from measured where level <> 'commune'
)
select
    g.level, g.code, g.type, g.n,
    round(m.q[2])::integer as median_m2, m.mean_m2, round(m.q[1])::integer as q1_m2,
    round(m.q[3])::integer as q3_m2, m.median_surface, m.mean_surface
from groups g
left join measured m
  on m.level = g.level and m.code = g.code and m.type = g.type and g.n >= getvariable('grade_min');
