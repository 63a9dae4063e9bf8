-- Stored rows that the batch replaces (same year, half-year and department), tagged with the file.
create or replace temp view replaced_rows as
select p.source_file, d.rowid as row_id
from dvf_rows d
join batch_periods p
  on d.annee = p.annee and d.semestre = p.semestre
 and d.code_departement is not distinct from p.code_departement;
