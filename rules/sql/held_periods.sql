-- The periods of a file the import skips (the store holds it: stored_sources.sql), under the name
-- the source gives it, as those of another file of the batch: a file imported beside it must not
-- cover one of them (period_clash.sql). Otherwise each run would import one of the two again, over
-- the other's rows, and the site would change at every run.
insert into batch_periods
select $1, source_sha256, annee, semestre, code_departement
from import_periods
where source_sha256 = $2
  and batch_id = (select max(batch_id) from import_periods where source_sha256 = $2);
