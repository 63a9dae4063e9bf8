-- The sha256 of the files an import skips: for each file name, its last successful import, when
-- the store still holds rows of it or that import kept every commune's rows as they were (it
-- stored no row: the same sales as before), and no later import of another file changed rows of
-- the periods it covered (import_periods.sql). A file whose name was imported since with other
-- bytes is imported again (a release reverted to an earlier file), even if the store still holds
-- some of its rows; so is a file a later one overtook (`doit source=other.csv`, then `doit`: the
-- store's periods are again the first file's).
with latest as (
    select
        source_file,
        arg_max(sha256, batch_id) as sha256,
        arg_max(rows_imported > 0 and rows_replaced = 0 and rows_added = 0, batch_id) as kept_all
    from update_log
    where status = 'success'
    group by source_file
),
held as (
    select distinct d.source_sha256 as sha256
    from dvf_rows d
    left join latest l on l.source_file = d.source_file
    where l.sha256 is null or l.sha256 = d.source_sha256
    union
    select sha256 from latest where kept_all
),
last_import as (
    select source_sha256, max(batch_id) as batch_id
    from import_periods
    group by source_sha256
),
changing as (
    select batch_id, sha256
    from update_log
    where status = 'success' and (rows_replaced > 0 or coalesce(rows_added, 0) > 0)
),
overtaken as (
    select distinct f.source_sha256 as sha256
    from import_periods f
    join last_import l on l.source_sha256 = f.source_sha256 and l.batch_id = f.batch_id
    join import_periods o
      on o.annee = f.annee and o.semestre = f.semestre
     and o.code_departement is not distinct from f.code_departement
     and o.batch_id > f.batch_id and o.source_sha256 <> f.source_sha256
    join changing c on c.batch_id = o.batch_id and c.sha256 = o.source_sha256
)
select sha256 from held
where sha256 not in (select sha256 from overtaken);
