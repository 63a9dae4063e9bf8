-- Etalab geo-dvf lines -> the common staged shape, still text: a view, read once by staged.sql.
-- Codes are already padded and mutation ids already built by Etalab (price_text is for raw files'
-- numbering only); names are left out (raw and geo spell them differently: use codes).
create or replace temp view stg_rows as
select
    id_mutation,
    null::varchar as price_text,
    date_mutation as date_text,
    try_strptime(date_mutation, '%Y-%m-%d')::date as date_mutation,
    numero_disposition,
    nature_mutation,
    valeur_fonciere,
    adresse_numero,
    adresse_suffixe,
    adresse_nom_voie,
    adresse_code_voie,
    lpad(code_postal, 5, '0') as code_postal,
    code_commune,
    code_departement,
    id_parcelle,
    numero_volume,
    lot1_numero, lot1_surface_carrez,
    lot2_numero, lot2_surface_carrez,
    lot3_numero, lot3_surface_carrez,
    lot4_numero, lot4_surface_carrez,
    lot5_numero, lot5_surface_carrez,
    nombre_lots,
    code_type_local,
    type_local,
    surface_reelle_bati,
    nombre_pieces_principales,
    code_nature_culture,
    code_nature_culture_speciale,
    surface_terrain,
    longitude,
    latitude
from geo_lines;
