-- Stored rows in the periods the file covers (covered_periods.sql): the ones it may replace. A
-- table of row ids, found once: the comparison and the delete both read it (as a view, each
-- scanned the store again).
create or replace temp table replaced_rows as
select d.rowid as row_id
from dvf_rows d
join covered_periods p
  on d.annee = p.annee and d.semestre = p.semestre
 and d.code_departement is not distinct from p.code_departement;
