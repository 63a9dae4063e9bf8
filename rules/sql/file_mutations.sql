-- The mutations of a raw file's lines (line_ids.sql), each with the multiset hash of its lines' text
-- (their sum, and their count), and whether they lie in more than one part (a sale across
-- communes: rare). file_digests.sql and file_ties.sql read it.
create or replace temp table file_mutations as
select
    mutation,
    sum(lh) as s,
    count(*) as n,
    min(hash(annee, semestre, code_departement, code_commune))
        <> max(hash(annee, semestre, code_departement, code_commune)) as multi
from line_ids
group by mutation;
