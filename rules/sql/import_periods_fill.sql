-- The periods of each import, as far as the stored rows tell them (a store made before
-- import_periods.sql, or restored from git): the periods where each file still has rows. A period
-- whose rows a later file replaced all of is then missing: that file is not imported again when a
-- source names it, as before the table (stored_sources.sql).
insert into import_periods
select distinct batch_id, source_sha256, annee, semestre, code_departement
from dvf_rows;
