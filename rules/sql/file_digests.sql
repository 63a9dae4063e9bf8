-- Each part (year, half-year, department, commune) of a raw file, with the digest of its lines: the
-- multiset of its lines' text, each with the whole text of its mutation (file_mutations.sql). Two
-- files whose lines of a part have the same digest give that part the same rows, grouped into the
-- same mutations (a row is a function of its line, a mutation a run of lines): what the import
-- compares (changed_parts.sql). part_digests.sql keeps them; candidate_parts.sql compares them.
create or replace temp table file_digests as
select
    i.annee,
    i.semestre,
    i.code_departement,
    i.code_commune,
    hash(sum(hash(i.lh, m.s, m.n)), count(*)) as digest
from line_ids i
join file_mutations m on m.mutation = i.mutation
group by i.annee, i.semestre, i.code_departement, i.code_commune;
