-- The imports after a batch (the one the version online was built from): the last successful batch,
-- the rows they added and removed, and whether some log row predates those counts.
select
    (select max(batch_id) from update_log where status = 'success'),
    coalesce(sum(rows_added), 0)::bigint,
    coalesce(sum(rows_removed), 0)::bigint,
    count(*) filter (where rows_added is null) > 0
from update_log
where status = 'success' and batch_id > ?;
