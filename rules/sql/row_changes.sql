-- What one file changes in the store, by content: rows it brings that the parts it changes did
-- not hold (added), and rows of those parts it no longer holds (removed), as multisets of the DVF
-- fields compared by their hash (period_rows; one aggregation, where EXCEPT ALL on the columns took
-- 16 s for 7 million rows). A republished year with one corrected price is 1 added and 1 removed,
-- not its 3 million rows. Only the changed parts count (changed_period_rows.sql): a part kept as it
-- was holds the same rows on both sides, so it adds nothing to any row's difference; counting the
-- whole periods cost a release 1.6 s (2026-12-07).
with counts as (
    select h, count(*) filter (where not old) as n_new, count(*) filter (where old) as n_old
    from changed_period_rows
    group by h
)
select
    coalesce(sum(greatest(n_new - n_old, 0)), 0)::bigint as added,
    coalesce(sum(greatest(n_old - n_new, 0)), 0)::bigint as removed
from counts;
