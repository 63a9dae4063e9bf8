-- The parts a raw file may change (see covered_parts.sql): all but those whose lines have the
-- digest the store keeps for them (part_digests.sql, made by this import method): those hold, as
-- text, what the import that stored their rows read, so they would be compared equal and kept.
-- The store's parts the file no longer holds, and the file's new ones, have no such digest. store.py
-- adds the parts tied to one of them by a mutation (file_ties.sql).
create or replace temp table candidate_parts as
with same as (
    select f.annee, f.semestre, f.code_departement, f.code_commune
    from file_digests f
    semi join part_digests p
      on p.annee = f.annee and p.semestre = f.semestre
     and p.code_departement is not distinct from f.code_departement
     and p.code_commune is not distinct from f.code_commune
     and p.digest = f.digest and p.method = getvariable('staging_method')
)
select c.*
from covered_parts c
anti join same s
  on s.annee = c.annee and s.semestre = c.semestre
 and s.code_departement is not distinct from c.code_departement
 and s.code_commune is not distinct from c.code_commune;
