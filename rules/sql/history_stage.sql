-- The stored rows of one half-year's changed departments, sorted by partition and then in the
-- partitions' total order (a source line is one row): each partition is then one run of rows
-- (history_ranges), read without scanning the store again. One sort for a half-year's changed
-- partitions took 2.3 s where 97 filtered scans of the store took 10 s (France scale).
create or replace table history_scratch.history_rows as
select *
from dvf_rows
where annee = getvariable('annee')
  and semestre = getvariable('semestre')
  and (list_contains(getvariable('departements'), code_departement)
       or (code_departement is null and getvariable('with_unknown')))
order by code_departement, source_sha256, source_line;
