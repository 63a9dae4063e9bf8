-- Step 1 of the method: exact duplicate rows removed, on the columns that describe a sale of a
-- local (a house repeated on several culture lines becomes one row). A mutation is identified
-- within its source file, and belongs to one year: only the years being recomputed
-- (stat_years) are read.
create or replace temp view sales_deduped as
select distinct
    source_sha256, id_mutation, date_mutation, annee, code_commune, id_parcelle, nature_mutation,
    code_type_local, valeur_fonciere, surface_reelle_bati, nombre_pieces_principales
from dvf_rows
where list_contains(getvariable('stat_years'), annee);
