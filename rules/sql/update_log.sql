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
    error varchar
);
