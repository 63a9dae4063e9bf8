-- The periods (year, half-year, department) whose sales the file changes: those where its rows and
-- the stored ones differ as multisets of mutations, each by the hash of its rows (period_mutations;
-- a mutation spanning periods by its part in the period and its whole), so a period is unchanged
-- only if its rows are the same and so is the way they group into mutations (the statistics count
-- goods per mutation). A period the store did not hold is changed. The others keep their stored
-- rows, provenance included: their history partitions and statistics stay as they were. store.py
-- then adds the periods tied to a changed one by a mutation spanning both (period_links.sql).
create or replace temp table changed_periods as
with pieces as (
    select r.old, r.annee, r.semestre, r.code_departement, hash(sum(r.h), count(*), any_value(m.s), any_value(m.n)) as hm
    from period_rows r
    join period_mutations m on m.old = r.old and m.mutation = r.mutation
    where m.multi
    group by r.old, r.mutation, r.annee, r.semestre, r.code_departement
),
tagged as (
    select old, annee, semestre, code_departement, hash(s, n, s, n) as hm from period_mutations where not multi
    union all
    select old, annee, semestre, code_departement, hm from pieces
),
differing as (
    select annee, semestre, code_departement
    from tagged
    group by annee, semestre, code_departement, hm
    having sum(if(old, -1, 1)) <> 0
)
select distinct annee, semestre, code_departement from differing;
