-- A file's rows as line_ids.sql, file_digests.sql and the import's checks (its line count, periods
-- and unknown communes) read them, when all its lines were staged: from staged, by its rowid (the
-- file's line order: staged_ids_whole.sql). See file_keys_lines.sql.
create or replace temp view file_keys as
select rowid as rid, lh, price_text, date_text, annee, semestre, code_departement, code_commune
from staged;
