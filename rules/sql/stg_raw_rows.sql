-- Raw DGFiP lines -> the common staged shape, still text (decimal comma -> dot): a view, read once
-- by staged.sql, with each line's place in the file and hash (file_rid, lh) and its number of
-- fields if wrong. Codes are zero-padded (raw_departement.sql, raw_commune.sql). Mutation ids are
-- not in these files: line_ids.sql numbers them from the price and date as written (price_text,
-- date_text).
create or replace temp view stg_rows as
with placed as (
    select
        *,
        raw_departement(code_departement) as dep,
        raw_commune(code_departement, code_commune) as commune5
    from raw_lines
)
select
    file_rid,
    lh,
    wrong_fields,
    null::varchar as id_mutation,
    valeur_fonciere as price_text,
    date_mutation as date_text,
    raw_date(date_mutation) as date_mutation,
    no_disposition as numero_disposition,
    nature_mutation,
    replace(valeur_fonciere, ',', '.') as valeur_fonciere,
    no_voie as adresse_numero,
    btq as adresse_suffixe,
    nullif(concat_ws(' ', type_de_voie, voie), '') as adresse_nom_voie,
    code_voie as adresse_code_voie,
    lpad(code_postal, 5, '0') as code_postal,
    commune5 as code_commune,
    dep as code_departement,
    case when no_plan is not null then
        commune5 || coalesce(lpad(prefixe_de_section, 3, '0'), '000')
        || lpad(coalesce(section, ''), 2, '0') || lpad(no_plan, 4, '0')
    end as id_parcelle,
    no_volume as numero_volume,
    lot1 as lot1_numero, replace(lot1_carrez, ',', '.') as lot1_surface_carrez,
    lot2 as lot2_numero, replace(lot2_carrez, ',', '.') as lot2_surface_carrez,
    lot3 as lot3_numero, replace(lot3_carrez, ',', '.') as lot3_surface_carrez,
    lot4 as lot4_numero, replace(lot4_carrez, ',', '.') as lot4_surface_carrez,
    lot5 as lot5_numero, replace(lot5_carrez, ',', '.') as lot5_surface_carrez,
    nombre_de_lots as nombre_lots,
    code_type_local,
    type_local,
    replace(surface_reelle_bati, ',', '.') as surface_reelle_bati,
    nombre_pieces_principales,
    nature_culture as code_nature_culture,
    nature_culture_speciale as code_nature_culture_speciale,
    replace(surface_terrain, ',', '.') as surface_terrain,
    null::varchar as longitude,
    null::varchar as latitude
from placed;
