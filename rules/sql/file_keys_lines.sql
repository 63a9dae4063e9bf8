-- A raw file's lines as line_ids.sql, file_digests.sql and the import's checks read them, when the
-- store knows the file's year by its parts' digests: all of its lines, from line_keys.sql (staged
-- holds only those of the parts the file may change). See file_keys_staged.sql.
create or replace temp view file_keys as
select rid, lh, price_text, date_text, annee, semestre, code_departement, code_commune
from line_keys;
