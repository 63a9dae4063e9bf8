-- Each sale once per place it belongs to: its commune (or arrondissement), its city (for an
-- arrondissement), its department, its region and France. Cities are pooled rows, never an
-- average of arrondissement medians. Outside a full pass (stat_full), only the places whose
-- sales changed (st_dirty): the other places keep their stored figures.
create or replace temp view place_sales as
select u.p.level, u.p.code, s.*
from st_sales s,
    unnest([
        {'level': 'commune', 'code': s.commune},
        {'level': 'commune', 'code': s.city},
        {'level': 'departement', 'code': s.departement},
        {'level': 'region', 'code': s.region},
        {'level': 'france', 'code': 'FR'}
    ]) as u(p)
where u.p.code is not null
  and s.plausible
  and (getvariable('stat_full') or (u.p.level, u.p.code) in (select level, code from st_dirty));
