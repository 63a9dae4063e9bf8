-- The periods (year, half-year, department) each file of the running batch replaces.
create or replace temp table batch_periods (
    source_file varchar, source_sha256 varchar, annee smallint, semestre tinyint, code_departement varchar
);
