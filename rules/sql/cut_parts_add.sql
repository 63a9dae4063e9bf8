-- Before the stored rows of the parts the file changes leave the store (leaving_rows.sql): the
-- stored rows outside the periods the file covers (outside_rows.sql) that share a mutation with
-- one of them (see cut_parts.sql). A mutation is one date, so they lie in the same half-year, in a
-- department the file does not hold (none when the file holds all of France: nothing is hashed).
-- Mutations are compared by the hash period_rows gives them (a collision only recomputes a part
-- more).
insert into cut_parts
with outside as materialized (from outside_rows),
leaving as (select distinct annee, semestre, mutation from leaving_rows)
select distinct o.annee::integer, coalesce(o.code_commune, '')
from outside o
join leaving l
  on l.annee = o.annee and l.semestre = o.semestre and l.mutation = hash(o.source_sha256, o.id_mutation);
