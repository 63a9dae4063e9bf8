-- One more changed part (year, half-year, department, commune; '' for none), tied to a changed one
-- by a mutation (see part_links.sql): one of the compared parts (compared_parts.sql).
insert into changed_parts
select *
from compared_parts
where annee = ?::smallint and semestre = ?::tinyint
  and code_departement is not distinct from nullif(?, '')
  and code_commune is not distinct from nullif(?, '');
