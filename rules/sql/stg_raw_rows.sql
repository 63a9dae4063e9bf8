-- Raw DGFiP lines -> the common staged shape, still text (decimal comma -> dot): a view, read once
-- by staged.sql. Codes are zero-padded: commune = department (2) + commune (3); overseas (97x) =
-- 97x + 2 digits. Mutation ids are not in these files: staged_ids_raw.sql numbers them from the
-- price and date as written (price_text, date_text).
create or replace temp view stg_rows as
with coded as (
    select
        *,
        case when length(code_departement) = 1 then lpad(code_departement, 2, '0')
            else code_departement end as dep
    from raw_lines
),
placed as (
    select
        *,
        case
            when dep is null or code_commune is null then null
            when length(dep) = 3 and length(code_commune) = 3 and left(code_commune, 1) = right(dep, 1)
                then left(dep, 2) || code_commune
            when length(dep) = 3 then dep || lpad(code_commune, 2, '0')
            else dep || lpad(code_commune, 3, '0')
        end as commune5
    from coded
)
select
    null::varchar as id_mutation,
    valeur_fonciere as price_text,
    date_mutation as date_text,
    try_strptime(date_mutation, '%d/%m/%Y')::date as date_mutation,
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
