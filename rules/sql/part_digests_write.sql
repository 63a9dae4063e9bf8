-- A raw file's parts' digests (file_digests.sql), once its import stored them: each part now holds
-- what the file's lines of it give (changed, or kept as equal), but the open ones (open_parts.sql:
-- a sale that runs outside the file's periods), which get none.
insert into part_digests
select f.annee, f.semestre, f.code_departement, f.code_commune, f.digest, getvariable('staging_method')
from file_digests f
anti join open_parts o
  on o.annee = f.annee and o.semestre = f.semestre
 and o.code_departement is not distinct from f.code_departement
 and o.code_commune is not distinct from f.code_commune;
