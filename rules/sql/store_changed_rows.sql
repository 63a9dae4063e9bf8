-- The file's rows of the parts it changes go into the store (see changed_parts.sql): the other
-- parts keep their stored rows.
insert into dvf_rows
select f.*
from incoming_rows f
semi join changed_parts c
  on c.annee = f.annee and c.semestre = f.semestre
 and c.code_departement is not distinct from f.code_departement
 and c.code_commune is not distinct from f.code_commune;
