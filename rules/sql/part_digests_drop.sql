-- The digests of the parts in the periods the file covers go (part_digests.sql): a raw file's
-- import writes its own next (part_digests_write.sql), a geo-dvf file's none.
delete from part_digests p
where exists (
    select 1 from batch_periods b
    where b.source_sha256 = getvariable('source_sha256')
      and b.annee = p.annee and b.semestre = p.semestre
      and b.code_departement is not distinct from p.code_departement
);
