-- What one file changes in the store, by content: rows it brings that the periods it replaces did
-- not hold (added), and rows of those periods it no longer holds (removed), as multisets of the DVF
-- fields compared by their hash (period_rows; one aggregation: 1.7 s for 7 million rows on 2 cores,
-- where EXCEPT ALL on the columns took 16 s). A republished year with one corrected price is 1 added
-- and 1 removed, not its 3 million rows. Periods kept as they were count for nothing on either side.
with counts as (
    select h, count(*) filter (where not old) as n_new, count(*) filter (where old) as n_old
    from period_rows
    group by h
)
select
    coalesce(sum(greatest(n_new - n_old, 0)), 0)::bigint as added,
    coalesce(sum(greatest(n_old - n_new, 0)), 0)::bigint as removed
from counts;
