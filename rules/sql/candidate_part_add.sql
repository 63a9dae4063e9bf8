-- One more part a raw file may change (year, half-year, department, commune; '' for none), tied to
-- one by a mutation (file_ties.sql): one of the covered parts (covered_parts.sql).
insert into candidate_parts
select *
from covered_parts
where annee = ?::smallint and semestre = ?::tinyint
  and code_departement is not distinct from nullif(?, '')
  and code_commune is not distinct from nullif(?, '');
