-- The file's rows whose commune code the referential does not know, by code: kept, reported.
select coalesce(d.code_commune, '(vide)'), count(*)
from dvf_rows d
anti join communes c on c.code = d.code_commune
where d.batch_id = getvariable('batch_id') and d.source_sha256 = getvariable('source_sha256')
group by all;
