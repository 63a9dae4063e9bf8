-- Staged rows of one file, typed for the store: a view over raw_lines or geo_lines, read once
-- stg_first_error found nothing. Each read evaluates it again, which measured cheaper than holding
-- 3.5 million rows in a temp table (7 s): the periods the file covers and the ones it changes are
-- found from it before anything is inserted, then only the changed periods' rows go in (inserting
-- them all and deleting the kept ones made the commit 8 s longer).
create or replace temp view incoming_rows as
select
    getvariable('batch_id')::integer as batch_id,
    getvariable('source_file') as source_file,
    getvariable('source_sha256') as source_sha256,
    getvariable('source_format') as source_format,
    line::integer as source_line,
    id_mutation,
    date_mutation,
    year(date_mutation)::smallint as annee,
    (case when month(date_mutation) <= 6 then 1 else 2 end)::tinyint as semestre,
    numero_disposition::integer as numero_disposition,
    nature_mutation,
    nullif(round(valeur_fonciere::double), 0)::bigint as valeur_fonciere,
    adresse_numero,
    adresse_suffixe,
    adresse_nom_voie,
    adresse_code_voie,
    code_postal,
    code_commune,
    code_departement,
    id_parcelle,
    numero_volume,
    lot1_numero, nullif(lot1_surface_carrez::double, 0) as lot1_surface_carrez,
    lot2_numero, nullif(lot2_surface_carrez::double, 0) as lot2_surface_carrez,
    lot3_numero, nullif(lot3_surface_carrez::double, 0) as lot3_surface_carrez,
    lot4_numero, nullif(lot4_surface_carrez::double, 0) as lot4_surface_carrez,
    lot5_numero, nullif(lot5_surface_carrez::double, 0) as lot5_surface_carrez,
    nombre_lots::integer as nombre_lots,
    code_type_local::tinyint as code_type_local,
    type_local,
    nullif(surface_reelle_bati::double, 0) as surface_reelle_bati,
    nombre_pieces_principales::integer as nombre_pieces_principales,
    code_nature_culture,
    code_nature_culture_speciale,
    nullif(surface_terrain::double, 0) as surface_terrain,
    longitude::double as longitude,
    latitude::double as latitude
from stg_rows;
