-- The mutations of the compared rows (period_rows), on both sides: each with the multiset hash of
-- its rows (their sum, and their count), and whether they lie in more than one part (a sale across
-- communes: rare) or else that part (its hash). One aggregation of the rows, on numbers only (with
-- the part's four columns, two of them text, as any_value, it took 1.3 s of a release's 3.5 million
-- rows a side); changed_parts.sql and part_links.sql read it.
create or replace temp table period_mutations as
select
    old,
    mutation,
    sum(h) as s,
    count(*) as n,
    min(part) <> max(part) as multi,
    min(part) as part
from period_rows
group by old, mutation;
