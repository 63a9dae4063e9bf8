-- Median price per m2 by number of main rooms (1, 2, 3, 4, 5 and more) per place and type, over
-- the headline window: what the estimate on a commune page offers beside the quartiles. Rows
-- without a room count (0 or missing, frequent for houses) are left out. As in place_headline,
-- every group is counted and its median published from grade_min sales; a commune's median runs
-- only where it can be published, the large groups of departments, regions and France are counted
-- and measured in one aggregation.
create or replace temp table place_rooms as
with windowed as not materialized (
    select level, code, type, prix_m2, least(nombre_pieces_principales, 5)::integer as pieces
    from place_sales
    where annee between getvariable('window_from') and getvariable('window_to')
      and nombre_pieces_principales >= 1
),
counts as (
    select level, code, type, pieces, count(*)::integer as n
    from windowed
    where level = 'commune'
    group by all
),
measured as (
    select level, code, type, pieces, count(*)::integer as n, round(median(prix_m2))::integer as median_m2
    from (
        from windowed
        semi join (select level, code, type, pieces from counts where n >= getvariable('grade_min')) big
            using (level, code, type, pieces)
        where level = 'commune'
        union all
        from windowed
        where level <> 'commune'
    )
    group by all
),
groups as (
    select level, code, type, pieces, n from counts
    union all
    select level, code, type, pieces, n from measured where level <> 'commune'
)
select g.level, g.code, g.type, g.pieces, g.n, m.median_m2
from groups g
left join measured m
  on m.level = g.level and m.code = g.code and m.type = g.type and m.pieces = g.pieces
 and g.n >= getvariable('grade_min');
