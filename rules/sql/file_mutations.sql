-- The mutations of a raw file's lines (line_ids.sql), each with the multiset hash of its lines' text
-- (their sum, and their count), and, for a file staged in part (`in_part`), whether they lie in more
-- than one part (a sale across communes: rare). file_digests.sql and file_ties.sql read it. Only
-- file_ties.sql, which a file staged in part runs, reads `multi`: getvariable is a constant when
-- the query is planned, so for a file staged whole the two aggregates are not computed (0.15 s of
-- a 3.5-million-line file, 2026-12-07).
create or replace temp table file_mutations as
select
    mutation,
    sum(lh) as s,
    count(*) as n,
    case
        when getvariable('in_part') then
            min(hash(annee, semestre, code_departement, code_commune))
            <> max(hash(annee, semestre, code_departement, code_commune))
    end as multi
from line_ids
group by mutation;
