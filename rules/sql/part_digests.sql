-- Per stored part (year, half-year, department, commune) that a raw file's import compared: the
-- digest of that file's lines of it (file_digests.sql), and the import method's (its SQL and DVF
-- vocabulary: store.staging_method) under which the digest holds. A release's lines of a part with
-- the same digest are not staged again (candidate_parts.sql). An import that writes a period's rows
-- otherwise (a geo-dvf file) drops its digests (part_digests_drop.sql); a store restored from git
-- has none.
create table if not exists part_digests (
    annee smallint not null,
    semestre tinyint not null,
    code_departement varchar,
    code_commune varchar,
    digest ubigint not null,
    method varchar not null
);
