-- import_periods: the periods one file of a batch that committed covered (batch_periods.sql).
insert into import_periods
select ?, source_sha256, annee, semestre, code_departement
from batch_periods
where source_sha256 = ?;
