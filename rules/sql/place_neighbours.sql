-- Each commune's and arrondissement's eight nearest places of the site, by the distance between
-- their centres (the referential's lat/lon: geo.api.gouv.fr, La Poste for arrondissements), in
-- km, across department borders. A city made of arrondissements is never a neighbour (its
-- arrondissements are), and a city and its own arrondissements are not each other's neighbours.
-- Candidates come from a grid of cells 0.2 degree high and 0.3 wide (about 22 km), the cell and
-- the eight around it: an equality join, not a comparison of every pair. French Guiana's
-- communes are ten times larger (and alone on their continent): ten times larger cells.
-- The eight nearest are kept by a top-8 aggregate (min_by on the distance, then the code), not
-- by numbering every pair in a window: 11 million pairs for France, 0.9 s against 1.8 s.
create or replace table place_neighbours as
with located as (
    select *, case when departement = '973' then 10 else 1 end as scale
    from communes
),
places as (
    select code, kind, parent, lat, lon, scale,
        floor(lat / (0.2 * scale))::integer as gy, floor(lon / (0.3 * scale))::integer as gx
    from located
    where kind in ('commune', 'arrondissement') and lat is not null
      and (getvariable('scope') = ''
           or list_contains(string_split(getvariable('scope'), ','), departement))
),
cities as (select distinct parent as code from places where kind = 'arrondissement'),
around as (
    select p.code, p.parent, p.lat, p.lon, p.scale, p.gy + dy as gy, p.gx + dx as gx
    from places p, range(-1, 2) ys(dy), range(-1, 2) xs(dx)
),
pairs as (
    select a.code, b.code as neighbour,
        sqrt(
            power((b.lon - a.lon) * cos(radians((a.lat + b.lat) / 2)) * 111.32, 2)
            + power((b.lat - a.lat) * 110.57, 2)
        ) as km
    from around a
    join places b on b.scale = a.scale and b.gy = a.gy and b.gx = a.gx
    where b.code <> a.code
      and b.code not in (select code from cities)
      and b.parent is distinct from a.code
      and a.parent is distinct from b.code
)
select code, n.neighbour, round(n.km, 1) as km
from (
    select code, unnest(min_by({'neighbour': neighbour, 'km': km}, {'km': km, 'neighbour': neighbour}, 8)) as n
    from pairs
    group by code
);
