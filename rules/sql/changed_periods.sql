-- The periods (year, half-year, department) whose sales the file changes: those where its rows and
-- the stored ones differ as multisets of (row, the whole mutation it belongs to), both hashed (see
-- period_rows), so a period is unchanged only if its rows are the same and so is the way they
-- group into mutations (the statistics count goods per mutation). A period the store did not hold
-- is changed. The others keep their stored rows, provenance included: their history partitions
-- and statistics stay as they were. store.py then adds the periods tied to a changed one by a
-- mutation spanning both (period_links.sql).
create or replace temp table changed_periods as
with mutations as (
    select old, source_sha256, id_mutation, hash(list(h order by h)) as mh
    from period_rows
    group by all
),
tagged as (
    select r.annee, r.semestre, r.code_departement, hash(r.h, m.mh) as hm, if(r.old, -1, 1) as d
    from period_rows r
    join mutations m
      on m.old = r.old and m.source_sha256 = r.source_sha256 and m.id_mutation = r.id_mutation
),
differing as (
    select annee, semestre, code_departement
    from tagged
    group by annee, semestre, code_departement, hm
    having sum(d) <> 0
)
select distinct annee, semestre, code_departement from differing;
