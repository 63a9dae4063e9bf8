-- Another file of the batch covering one of this file's periods: the rows would double; or a file of
-- the same source the store holds (held_periods.sql): the two would be imported in turn.
select p.annee, p.semestre, p.code_departement, o.source_file
from batch_periods p
join batch_periods o
  on o.annee = p.annee and o.semestre = p.semestre
 and o.code_departement is not distinct from p.code_departement
 and o.source_sha256 <> p.source_sha256
where p.source_sha256 = getvariable('source_sha256')
order by all
limit 1;
