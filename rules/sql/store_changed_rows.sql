-- The file's rows of the periods it changes go into the store (see changed_periods.sql): the other
-- periods keep their stored rows.
insert into dvf_rows
select f.*
from incoming_rows f
semi join changed_periods c
  on c.annee = f.annee and c.semestre = f.semestre
 and c.code_departement is not distinct from f.code_departement;
