-- One file's rows (a raw file's: those staged_lines names), typed for the store, in one pass: the
-- fields are read (raw_lines or geo_lines, through stg_rows) once, here, and every later step reads
-- this table (its rowid follows the file's lines: ordered.sql). A raw row keeps its line's place in
-- the file and hash (file_rid, lh). Each row also carries the first value of it we cannot store
-- (`bad`, null for a good row; stg_first_error.sql reports the first in file order): a raw line must
-- have its 43 fields; dates must exist, from 1990 on and not after latest_date (the build date and a
-- small margin: a sale cannot be in the future, and one misdated row must not move the site's
-- window); the price and the surfaces must be plain decimals that fit (decimal_problem.sql: a price
-- under 10^15 EUR, a surface under 10^12 m2); the counts plain integers; the nature and local type
-- must be DVF's known codes; a geo-dvf row must have its mutation id (a raw file's are rebuilt:
-- line_ids.sql). A field@kind names a problem other than the field's usual one. The casts are
-- try_cast: a bad row's values are never stored (the import stops at the first), and a good row's
-- all cast. The checks run in the order written; an empty field is not matched at all (most lots
-- are empty: matching '0' instead cost 0.3 s a file).
create or replace temp table staged as
select
    file_rid,
    lh,
    id_mutation,
    price_text,
    date_text,
    date_mutation,
    year(date_mutation)::smallint as annee,
    half_year(date_mutation) as semestre,
    try_cast(numero_disposition as integer) as numero_disposition,
    nature_mutation,
    try_cast(nullif(round(try_cast(valeur_fonciere as double)), 0) as bigint) as valeur_fonciere,
    adresse_numero,
    adresse_suffixe,
    adresse_nom_voie,
    adresse_code_voie,
    code_postal,
    code_commune,
    code_departement,
    id_parcelle,
    numero_volume,
    lot1_numero, nullif(try_cast(lot1_surface_carrez as double), 0) as lot1_surface_carrez,
    lot2_numero, nullif(try_cast(lot2_surface_carrez as double), 0) as lot2_surface_carrez,
    lot3_numero, nullif(try_cast(lot3_surface_carrez as double), 0) as lot3_surface_carrez,
    lot4_numero, nullif(try_cast(lot4_surface_carrez as double), 0) as lot4_surface_carrez,
    lot5_numero, nullif(try_cast(lot5_surface_carrez as double), 0) as lot5_surface_carrez,
    try_cast(nombre_lots as integer) as nombre_lots,
    try_cast(code_type_local as tinyint) as code_type_local,
    type_local,
    nullif(try_cast(surface_reelle_bati as double), 0) as surface_reelle_bati,
    try_cast(nombre_pieces_principales as integer) as nombre_pieces_principales,
    code_nature_culture,
    code_nature_culture_speciale,
    nullif(try_cast(surface_terrain as double), 0) as surface_terrain,
    try_cast(longitude as double) as longitude,
    try_cast(latitude as double) as latitude,
    coalesce(
        case
            when wrong_fields is not null
                then {'field': 'fields', 'value': wrong_fields::varchar}
            when getvariable('source_format') = 'geo' and id_mutation is null
                then {'field': 'id_mutation', 'value': ''}
            when date_mutation is null or date_mutation < DATE '1990-01-01'
                then {'field': 'date_mutation', 'value': coalesce(date_text, '')}
            when date_mutation > getvariable('latest_date')
                then {'field': 'date_mutation@future', 'value': date_text}
            when nature_mutation is null or not list_contains(getvariable('natures'), nature_mutation)
                then {'field': 'nature_mutation', 'value': coalesce(nature_mutation, '')}
        end,
        decimal_problem('valeur_fonciere', valeur_fonciere, 1e15),
        decimal_problem('surface_reelle_bati', surface_reelle_bati, 1e12),
        decimal_problem('surface_terrain', surface_terrain, 1e12),
        decimal_problem('lot1_surface_carrez', lot1_surface_carrez, 1e12),
        decimal_problem('lot2_surface_carrez', lot2_surface_carrez, 1e12),
        decimal_problem('lot3_surface_carrez', lot3_surface_carrez, 1e12),
        decimal_problem('lot4_surface_carrez', lot4_surface_carrez, 1e12),
        decimal_problem('lot5_surface_carrez', lot5_surface_carrez, 1e12),
        case
            when nombre_pieces_principales is not null
             and not regexp_full_match(nombre_pieces_principales, '[0-9]{1,6}')
                then {'field': 'nombre_pieces_principales', 'value': nombre_pieces_principales}
            when nombre_lots is not null
             and not regexp_full_match(nombre_lots, '[0-9]{1,9}')
                then {'field': 'nombre_lots', 'value': nombre_lots}
            when numero_disposition is not null
             and not regexp_full_match(numero_disposition, '[0-9]{1,9}')
                then {'field': 'numero_disposition', 'value': numero_disposition}
            when code_type_local is not null
             and not list_contains(getvariable('local_types')::varchar[], code_type_local)
                then {'field': 'code_type_local', 'value': code_type_local}
            when longitude is not null
             and not regexp_full_match(longitude, '-?[0-9]+(\.[0-9]+)?')
                then {'field': 'longitude', 'value': longitude}
            when latitude is not null
             and not regexp_full_match(latitude, '-?[0-9]+(\.[0-9]+)?')
                then {'field': 'latitude', 'value': latitude}
        end
    ) as bad
from stg_rows;
