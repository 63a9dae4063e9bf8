-- Each sale once per place it belongs to: its commune (or arrondissement), its city (for an
-- arrondissement), its department, its region and France. Cities are pooled rows, never an
-- average of arrondissement medians. Outside a full pass (stat_full), only the places whose
-- sales changed (st_dirty): the other places keep their stored figures. One select per level
-- (ten times faster than unnesting five places per sale, then filtering them).
create or replace temp view place_sales as
select 'commune' as level, commune as code, *
from st_sales
where plausible
  and (getvariable('stat_full') or commune in (select code from st_dirty where level = 'commune'))
union all
select 'commune', city, *
from st_sales
where plausible and city is not null
  and (getvariable('stat_full') or city in (select code from st_dirty where level = 'commune'))
union all
select 'departement', departement, *
from st_sales
where plausible
  and (getvariable('stat_full') or departement in (select code from st_dirty where level = 'departement'))
union all
select 'region', region, *
from st_sales
where plausible
  and (getvariable('stat_full') or region in (select code from st_dirty where level = 'region'))
union all
select 'france', 'FR', *
from st_sales
where plausible
  and (getvariable('stat_full') or exists (select 1 from st_dirty where level = 'france'));
