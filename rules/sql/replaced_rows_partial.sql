-- Stored rows in the parts a raw file may change (candidate_parts.sql): the ones a partial import
-- may replace, and compares (see replaced_rows.sql, a whole import's: the periods' rows).
create or replace temp table replaced_rows as
select d.rowid as row_id
from dvf_rows d
semi join candidate_parts c
  on c.annee = d.annee and c.semestre = d.semestre
 and c.code_departement is not distinct from d.code_departement
 and c.code_commune is not distinct from d.code_commune;
