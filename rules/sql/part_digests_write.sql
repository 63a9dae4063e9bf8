-- A raw file's parts' digests (file_digests.sql), once its import stored them: each part now holds
-- what the file's lines of it give (changed or kept as equal).
insert into part_digests
select annee, semestre, code_departement, code_commune, digest, getvariable('staging_method')
from file_digests;
