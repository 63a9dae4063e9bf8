-- Whether the store keeps digests, made by this import method, of parts of the year of the file's
-- first line (its 9th field is the date): then the import stages only the lines of the parts that
-- may change (a release republishing a year). Either way the store ends the same; this only
-- chooses the faster way.
select exists (
    select 1
    from part_digests
    where method = getvariable('staging_method')
      and annee = (select year(raw_date(split_part(l, '|', 9))) from file_text limit 1)
);
