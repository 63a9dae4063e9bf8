-- The digests of the parts in the periods the file covers (covered_periods.sql) go
-- (part_digests.sql): a raw file's import writes its own next (part_digests_write.sql), a geo-dvf
-- file's none.
delete from part_digests p
where exists (
    select 1 from covered_periods c
    where c.annee = p.annee and c.semestre = p.semestre
      and c.code_departement is not distinct from p.code_departement
);
