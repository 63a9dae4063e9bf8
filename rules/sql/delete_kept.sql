-- The file's rows of the periods it does not change leave the store: the stored rows stay, with
-- their provenance (the same sales, by content and by mutation).
delete from dvf_rows d
where d.batch_id = getvariable('batch_id') and d.source_sha256 = getvariable('source_sha256')
  and not exists (
      select 1 from changed_periods c
      where c.annee = d.annee and c.semestre = d.semestre
        and c.code_departement is not distinct from d.code_departement
  );
