-- The parts (year, half-year, department, commune) whose sales the file changes: those where its
-- rows and the stored ones differ as multisets of mutations, each by the hash of its rows
-- (period_mutations; a mutation spanning parts by its piece in the part and its whole), so a part is
-- unchanged only if its rows are the same and so is the way they group into mutations (the
-- statistics count goods per mutation). A part the store did not hold, or that the file no longer
-- holds, is changed. The others keep their stored rows, provenance included: a release that
-- changes sales in a few communes rewrites only theirs, and a year it does not change keeps its
-- history partitions and statistics. store.py then adds the parts tied to a changed one by a
-- mutation spanning both (part_links.sql).
create or replace temp table changed_parts as
with pieces as (
    select r.old, r.part, hash(sum(r.h), count(*), any_value(m.s), any_value(m.n)) as hm
    from period_rows r
    join period_mutations m on m.old = r.old and m.mutation = r.mutation
    where m.multi
    group by r.old, r.mutation, r.part
),
tagged as (
    select old, part, hash(s, n, s, n) as hm
    from period_mutations where not multi
    union all
    select old, part, hm from pieces
),
differing as (
    select distinct part
    from tagged
    group by part, hm
    having sum(if(old, -1, 1)) <> 0
)
select c.*
from compared_parts c
semi join differing d on d.part = c.part;
