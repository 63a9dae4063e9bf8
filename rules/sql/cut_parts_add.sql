-- Before the stored rows of the parts the file changes leave the store (leaving_rows.sql): the
-- stored rows outside the periods the file covers that share a mutation with one of them (see
-- cut_parts.sql). A mutation is one date, so they lie in the same half-year, in a department the
-- file does not hold (none when the file holds all of France: nothing is hashed). Mutations are
-- compared by the hash period_rows gives them (a collision only recomputes a part more).
insert into cut_parts
with covered as (
    select annee, semestre, code_departement from batch_periods
    where source_sha256 = getvariable('source_sha256')
),
outside as materialized (
    select d.annee, d.semestre, d.code_commune, d.source_sha256, d.id_mutation
    from dvf_rows d
    semi join (select distinct annee, semestre from covered) h on h.annee = d.annee and h.semestre = d.semestre
    anti join covered p
      on p.annee = d.annee and p.semestre = d.semestre
     and p.code_departement is not distinct from d.code_departement
),
leaving as (select distinct annee, semestre, mutation from leaving_rows)
select distinct o.annee::integer, coalesce(o.code_commune, '')
from outside o
join leaving l
  on l.annee = o.annee and l.semestre = o.semestre and l.mutation = hash(o.source_sha256, o.id_mutation);
