-- What one file changes in the store, by content: rows it brings that the periods it replaces did
-- not hold (added), and rows of those periods it no longer holds (removed), as multisets of the DVF
-- fields (source, line and the rebuilt id_mutation aside). A republished year with one corrected
-- price is 1 added and 1 removed, not its 3 million rows. Run after the insert, before the delete.
with content as (
    select * exclude (batch_id, source_file, source_sha256, source_format, source_line, id_mutation),
        rowid in (select row_id from replaced_rows) as old
    from dvf_rows
    where (batch_id = getvariable('batch_id') and source_sha256 = getvariable('source_sha256'))
       or rowid in (select row_id from replaced_rows)
),
added as (
    select * exclude (old) from content where not old
    except all
    select * exclude (old) from content where old
),
removed as (
    select * exclude (old) from content where old
    except all
    select * exclude (old) from content where not old
)
select (select count(*) from added), (select count(*) from removed);
