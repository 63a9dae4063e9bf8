-- The parts (year, half-year, department, commune) a whole import of a raw file would compare: the
-- file's, and the stored ones of the periods it covers (see compared_parts.sql). A partial import
-- counts them (covered_part_count.sql: the parts kept are these but the changed ones) and picks
-- among them those it may change (candidate_parts.sql).
create or replace temp table covered_parts as
select annee, semestre, code_departement, code_commune
from file_digests
union
select d.annee, d.semestre, d.code_departement, d.code_commune
from dvf_rows d
semi join (select distinct annee, semestre, code_departement from file_digests) p
  on p.annee = d.annee and p.semestre = d.semestre
 and p.code_departement is not distinct from d.code_departement;
