-- Step 1 of the method: exact duplicate rows removed, on the columns that describe a sale of a
-- local (a house repeated on several culture lines becomes one row). A mutation is identified
-- within its source file, by a number per source file of the year (`src`: it groups and compares
-- faster than the file's 64-character digest; steps 1-4 of a full France pass took 6.7 s against
-- 8.8 s, the same figures, 2026-12-07), and belongs to one year: the pass goes one year at a time
-- (stat_year), so memory holds one year's rows, and the funnel counts this table instead of
-- deduplicating again. Only the parts recomputed (st_year_parts: outside a full pass, the changed
-- ones): communes whose rows a release did not touch keep their stored sales.
create or replace temp table sales_deduped as
with sources as (
    select source_sha256, row_number() over ()::integer as src
    from (select distinct source_sha256 from dvf_rows where annee = getvariable('stat_year'))
)
select distinct
    s.src, d.id_mutation, d.date_mutation, d.annee, d.code_commune, d.id_parcelle, d.nature_mutation,
    d.code_type_local, d.valeur_fonciere, d.surface_reelle_bati, d.nombre_pieces_principales
from dvf_rows d
join sources s on s.source_sha256 = d.source_sha256
where d.annee = getvariable('stat_year')
  and coalesce(d.code_commune, '') in (select part from st_year_parts);
