-- One DGFiP ValeursFoncieres file, as text: a view, read once, by staged.sql (which keeps the
-- file's line order). LF or CRLF is detected by DuckDB. No quoting in these files: a '"' is data.
-- A short or long line fails the read with its line.
create or replace temp view raw_lines as
select *
from read_csv(
    getvariable('src'), delim = '|', header = true, quote = '', escape = '', auto_detect = false,
    strict_mode = true, null_padding = false,
    columns = {
        'code_service_ch': 'varchar', 'reference_document': 'varchar', 'articles_cgi_1': 'varchar',
        'articles_cgi_2': 'varchar', 'articles_cgi_3': 'varchar', 'articles_cgi_4': 'varchar',
        'articles_cgi_5': 'varchar', 'no_disposition': 'varchar', 'date_mutation': 'varchar',
        'nature_mutation': 'varchar', 'valeur_fonciere': 'varchar', 'no_voie': 'varchar',
        'btq': 'varchar', 'type_de_voie': 'varchar', 'code_voie': 'varchar', 'voie': 'varchar',
        'code_postal': 'varchar', 'commune': 'varchar', 'code_departement': 'varchar',
        'code_commune': 'varchar', 'prefixe_de_section': 'varchar', 'section': 'varchar',
        'no_plan': 'varchar', 'no_volume': 'varchar', 'lot1': 'varchar', 'lot1_carrez': 'varchar',
        'lot2': 'varchar', 'lot2_carrez': 'varchar', 'lot3': 'varchar', 'lot3_carrez': 'varchar',
        'lot4': 'varchar', 'lot4_carrez': 'varchar', 'lot5': 'varchar', 'lot5_carrez': 'varchar',
        'nombre_de_lots': 'varchar', 'code_type_local': 'varchar', 'type_local': 'varchar',
        'identifiant_local': 'varchar', 'surface_reelle_bati': 'varchar',
        'nombre_pieces_principales': 'varchar', 'nature_culture': 'varchar',
        'nature_culture_speciale': 'varchar', 'surface_terrain': 'varchar'
    }
);
