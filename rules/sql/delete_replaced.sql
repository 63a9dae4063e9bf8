-- The stored rows of the parts the file changes leave the store (it brings their new rows).
delete from dvf_rows
where rowid in (
    select r.row_id
    from period_rows r
    semi join changed_parts c
      on c.annee = r.annee and c.semestre = r.semestre
     and c.code_departement is not distinct from r.code_departement
     and c.code_commune is not distinct from r.code_commune
    where r.old
);
