-- The rows one file's import compares, on both sides: the file's (incoming_rows) and the stored rows
-- of the periods it covers (old, see replaced_rows), each with its part (year, half-year,
-- department, commune: what is kept or replaced whole), its mutation (its id hashed with its source
-- file: an id is only unique within it) and a 64-bit hash of its DVF fields (source, line and the
-- rebuilt id_mutation aside: a republished file renumbers mutations); `part` hashes the part's four
-- columns, so the aggregations group on one number rather than on text.
-- A table: period_mutations.sql, compared_parts.sql, changed_parts.sql, part_links.sql and
-- changed_period_rows.sql read it.
create or replace temp table period_rows as
select
    null::bigint as row_id,
    false as old,
    hash(source_sha256, id_mutation) as mutation,
    annee,
    semestre,
    code_departement,
    code_commune,
    hash(annee, semestre, code_departement, code_commune) as part,
    hash(*columns(* exclude (batch_id, source_file, source_sha256, source_format, source_line, id_mutation))) as h
from incoming_rows
union all
select
    rowid,
    true,
    hash(source_sha256, id_mutation),
    annee,
    semestre,
    code_departement,
    code_commune,
    hash(annee, semestre, code_departement, code_commune),
    hash(*columns(* exclude (batch_id, source_file, source_sha256, source_format, source_line, id_mutation)))
from dvf_rows
where rowid in (select row_id from replaced_rows);
