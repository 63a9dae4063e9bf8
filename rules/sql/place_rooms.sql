-- Median price per m2 by number of main rooms (1, 2, 3, 4, 5 and more) per place and type, over
-- the headline window: what the estimate on a commune page offers beside the quartiles. Rows
-- without a room count (0 or missing, frequent for houses) are left out. As in place_headline,
-- a commune's groups are counted and their median runs only where it can be published
-- (n >= grade_min); the large groups of departments, regions and France are counted and measured
-- in one pass, their median then cleared below grade_min.
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
medians as (
    select level, code, type, pieces, round(median(prix_m2))::integer as median_m2
    from windowed
    semi join (select level, code, type, pieces from counts where n >= getvariable('grade_min')) big
        using (level, code, type, pieces)
    where level = 'commune'
    group by all
),
parents as (
    select level, code, type, pieces, count(*)::integer as n, round(median(prix_m2))::integer as median_m2
    from windowed
    where level <> 'commune'
    group by all
)
select c.level, c.code, c.type, c.pieces, c.n, m.median_m2
from counts c
left join medians m using (level, code, type, pieces)
union all
select level, code, type, pieces, n, if(n >= getvariable('grade_min'), median_m2, null)
from parents;
