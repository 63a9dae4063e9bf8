-- The rows of a table or view (named) that lie in a part the file changes (see changed_parts.sql):
-- the stored ones that leave (leaving_rows.sql) and the file's ones that go in (store_changed_rows.sql).
create or replace temp macro changed_part_rows(rows_table) as table
select r.*
from query_table(rows_table) r
semi join changed_parts c
  on c.annee = r.annee and c.semestre = r.semestre
 and c.code_departement is not distinct from r.code_departement
 and c.code_commune is not distinct from r.code_commune;
