-- The stored rows of the half-years the file covers, in departments it does not hold
-- (covered_periods.sql): a sale across departments may have rows there. The import never touches
-- them, so they are the same before its delete and after its insert: cut_parts_add.sql reads them
-- before, open_parts.sql after. None when the file holds all of a half-year's departments.
create or replace temp view outside_rows as
select d.annee, d.semestre, d.code_commune, d.source_sha256, d.id_mutation
from dvf_rows d
semi join (select distinct annee, semestre from covered_periods) h on h.annee = d.annee and h.semestre = d.semestre
anti join covered_periods p
  on p.annee = d.annee and p.semestre = d.semestre
 and p.code_departement is not distinct from d.code_departement;
