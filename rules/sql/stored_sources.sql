-- The sha256 of the files an import skips: for each file name, its last successful import, when
-- the store still holds rows of it or that import kept every commune's rows as they were (it
-- stored no row: the same sales as before). A file whose name was imported since with other
-- bytes is imported again (a release reverted to an earlier file), even if the store still holds
-- some of its rows.
with latest as (
    select
        source_file,
        arg_max(sha256, batch_id) as sha256,
        arg_max(rows_imported > 0 and rows_replaced = 0 and rows_added = 0, batch_id) as kept_all
    from update_log
    where status = 'success'
    group by source_file
)
select distinct d.source_sha256
from dvf_rows d
left join latest l on l.source_file = d.source_file
where l.sha256 is null or l.sha256 = d.source_sha256
union
select sha256 from latest where kept_all;
