-- Stored rows of earlier batches in the periods the file just inserted covers: the ones it replaces.
-- A table of row ids, found once: counting the changes and the delete both read it (as a view, each
-- scanned the store again).
create or replace temp table replaced_rows as
select d.rowid as row_id
from dvf_rows d
join (
    select distinct annee, semestre, code_departement from batch_periods
    where source_sha256 = getvariable('source_sha256')
) p
  on d.annee = p.annee and d.semestre = p.semestre
 and d.code_departement is not distinct from p.code_departement
where d.batch_id <> getvariable('batch_id');
