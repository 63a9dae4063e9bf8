-- The file's rows of the parts it changes go into the store (see changed_parts.sql): the other
-- parts keep their stored rows. The parts' rows are picked from staged's part columns first, then
-- joined to their ids, so the join reads those rows only, not the file's 3.5 million (the
-- benchmark's release: 1.6-2.3 s -> 0.9 s measured apart, 2.3-2.7 s -> 1.4-1.5 s within its import).
insert into dvf_rows
with picked as materialized (
    select i.*
    from staged_ids i
    semi join (
        select s.rowid as rid
        from staged s
        semi join changed_parts c
          on c.annee = s.annee and c.semestre = s.semestre
         and c.code_departement is not distinct from s.code_departement
         and c.code_commune is not distinct from s.code_commune
    ) p on p.rid = i.rid
)
select
    getvariable('batch_id')::integer,
    getvariable('source_file'),
    getvariable('source_sha256'),
    getvariable('source_format'),
    i.line::integer,
    i.id_mutation,
    s.* exclude (file_rid, lh, id_mutation, price_text, date_text, bad)
from staged s
join picked i on i.rid = s.rowid;
