-- Step 1 of the method: exact duplicate rows removed, on the columns that describe a sale of a
-- local (a house repeated on several culture lines becomes one row). A mutation is identified
-- within its source file, and belongs to one year: the pass goes one year at a time (stat_year),
-- so memory holds one year's rows, and the funnel counts this table instead of deduplicating again.
-- Only the parts recomputed (st_year_parts: outside a full pass, the changed ones): communes whose
-- rows a release did not touch keep their stored sales.
create or replace temp table sales_deduped as
select distinct
    source_sha256, id_mutation, date_mutation, annee, code_commune, id_parcelle, nature_mutation,
    code_type_local, valeur_fonciere, surface_reelle_bati, nombre_pieces_principales
from dvf_rows
where annee = getvariable('stat_year')
  and coalesce(code_commune, '') in (select part from st_year_parts);
