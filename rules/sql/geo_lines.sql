-- One Etalab geo-dvf CSV file, as text: a view, read once, by staged.sql (which keeps the file's
-- line order).
create or replace temp view geo_lines as
select *
from read_csv(
    getvariable('src'), delim = ',', header = true, quote = '"', escape = '"', auto_detect = false,
    strict_mode = true, null_padding = false,
    columns = {
        'id_mutation': 'varchar', 'date_mutation': 'varchar', 'numero_disposition': 'varchar',
        'nature_mutation': 'varchar', 'valeur_fonciere': 'varchar', 'adresse_numero': 'varchar',
        'adresse_suffixe': 'varchar', 'adresse_nom_voie': 'varchar', 'adresse_code_voie': 'varchar',
        'code_postal': 'varchar', 'code_commune': 'varchar', 'nom_commune': 'varchar',
        'code_departement': 'varchar', 'ancien_code_commune': 'varchar', 'ancien_nom_commune': 'varchar',
        'id_parcelle': 'varchar', 'ancien_id_parcelle': 'varchar', 'numero_volume': 'varchar',
        'lot1_numero': 'varchar', 'lot1_surface_carrez': 'varchar', 'lot2_numero': 'varchar',
        'lot2_surface_carrez': 'varchar', 'lot3_numero': 'varchar', 'lot3_surface_carrez': 'varchar',
        'lot4_numero': 'varchar', 'lot4_surface_carrez': 'varchar', 'lot5_numero': 'varchar',
        'lot5_surface_carrez': 'varchar', 'nombre_lots': 'varchar', 'code_type_local': 'varchar',
        'type_local': 'varchar', 'surface_reelle_bati': 'varchar', 'nombre_pieces_principales': 'varchar',
        'code_nature_culture': 'varchar', 'nature_culture': 'varchar',
        'code_nature_culture_speciale': 'varchar', 'nature_culture_speciale': 'varchar',
        'surface_terrain': 'varchar', 'longitude': 'varchar', 'latitude': 'varchar'
    }
);
