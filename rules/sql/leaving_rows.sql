-- The stored rows that leave the store: those of the parts the file changes (see changed_parts.sql),
-- as period_rows holds them (their row id, part and mutation). Read by cut_parts_add.sql, then by
-- delete_replaced.sql.
create or replace temp view leaving_rows as
select r.*
from period_rows r
semi join changed_parts c
  on c.annee = r.annee and c.semestre = r.semestre
 and c.code_departement is not distinct from r.code_departement
 and c.code_commune is not distinct from r.code_commune
where r.old;
