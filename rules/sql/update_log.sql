-- One row per source file per import attempt: what was imported, when, and how it ended.
create table if not exists update_log (
    batch_id integer not null,
    source_file varchar not null,
    sha256 varchar,
    source_format varchar,
    rows_imported bigint not null default 0,
    rows_replaced bigint not null default 0,
    rows_unknown_commune bigint not null default 0,
    started timestamp not null,
    completed timestamp,
    status varchar not null,  -- success | failed
    error varchar,
    rows_added bigint,  -- rows (by content) the store did not hold: NULL in logs older than the count
    rows_removed bigint  -- stored rows of the file's periods it no longer holds
);
alter table update_log add column if not exists rows_added bigint;
alter table update_log add column if not exists rows_removed bigint;
