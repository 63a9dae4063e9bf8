-- The mutations of the compared rows (period_rows), on both sides: each with the multiset hash of
-- its rows (their sum, and their count), and whether they lie in more than one part (a sale across
-- communes: rare) or else that part. One aggregation of the rows; changed_parts.sql and
-- part_links.sql read it.
create or replace temp table period_mutations as
select
    old,
    mutation,
    sum(h) as s,
    count(*) as n,
    min(hash(annee, semestre, code_departement, code_commune))
        <> max(hash(annee, semestre, code_departement, code_commune)) as multi,
    any_value(annee) as annee,
    any_value(semestre) as semestre,
    any_value(code_departement) as code_departement,
    any_value(code_commune) as code_commune
from period_rows
group by old, mutation;
