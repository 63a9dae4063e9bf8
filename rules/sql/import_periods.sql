-- The periods (year, half-year, department) each successful import of a file covered: what it
-- replaced, whether it changed their rows or kept them (batch_periods.sql, kept by
-- import_periods_write.sql). stored_sources.sql reads them to see that a later import of another
-- file changed a file's periods, so that file is imported again when a source names it (its rows
-- are no longer all in the store), and held_periods.sql to refuse a source whose files overlap.
create table if not exists import_periods (
    batch_id integer not null,
    source_sha256 varchar not null,
    annee smallint not null,
    semestre tinyint not null,
    code_departement varchar
);
