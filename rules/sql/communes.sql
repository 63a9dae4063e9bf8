-- The commune referential (Etalab decoupage-administratif, vendored in rules/reference/).
-- kind: commune (current), arrondissement (Paris/Lyon/Marseille, parent = the city),
-- former (a merged or old code, parent = the current commune it now belongs to).
create or replace table communes as
select
    code,
    kind,
    nom,
    departement,
    region,
    nullif(parent, '') as parent,
    coalesce(string_split(nullif(codes_postaux, ''), ' '), []::varchar[]) as codes_postaux,
    try_cast(population as integer) as population,
    try_cast(lat as double) as lat,
    try_cast(lon as double) as lon
from read_csv(
    getvariable('communes_csv'), header = true, auto_detect = false,
    columns = {
        'code': 'varchar', 'kind': 'varchar', 'nom': 'varchar', 'departement': 'varchar',
        'region': 'varchar', 'parent': 'varchar', 'codes_postaux': 'varchar', 'population': 'varchar',
        'liaison': 'varchar', 'lat': 'varchar', 'lon': 'varchar'
    }
);
