-- The stored parts (year, half-year, department, commune) of the periods a raw file covers
-- (covered_periods.sql) that share a mutation with stored rows outside them (outside_rows.sql: a
-- sale across departments, the rest of it in a department the file does not hold: a department's
-- file, or another year's few rows in a file). The import compared only the piece inside, so a
-- part it kept may hold a sale the file's lines do not make: part_digests_write.sql writes it no
-- digest, and the next release compares it. Found once the file's rows are stored (a part it
-- rewrote holds its own mutations, never those outside). When the file covers all of a
-- half-year's departments, nothing is outside and no row is hashed.
create or replace temp table open_parts as
select distinct d.annee, d.semestre, d.code_departement, d.code_commune
from dvf_rows d
semi join covered_periods p
  on p.annee = d.annee and p.semestre = d.semestre
 and p.code_departement is not distinct from d.code_departement
semi join (select distinct hash(source_sha256, id_mutation) as mutation from outside_rows) o
  on o.mutation = hash(d.source_sha256, d.id_mutation);
