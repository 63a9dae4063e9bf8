-- The rows one file's import compares, on both sides: the ones it just inserted and the stored
-- rows of the periods it covers (old, see replaced_rows), each with its period, its mutation
-- (an id is only unique within its source file) and a 64-bit hash of its DVF fields (source, line
-- and the rebuilt id_mutation aside: a republished file renumbers mutations). Read once, by
-- row_changes.sql, changed_periods.sql and period_links.sql.
create or replace temp table period_rows as
select
    rowid as row_id,
    batch_id <> getvariable('batch_id') as old,
    source_sha256,
    id_mutation,
    annee,
    semestre,
    code_departement,
    hash(*columns(* exclude (batch_id, source_file, source_sha256, source_format, source_line, id_mutation))) as h
from dvf_rows
where (batch_id = getvariable('batch_id') and source_sha256 = getvariable('source_sha256'))
   or rowid in (select row_id from replaced_rows);
