-- The file's rows whose commune code the referential does not know, by code: kept, reported.
select coalesce(f.code_commune, '(vide)'), count(*)
from incoming_rows f
anti join communes c on c.code = f.code_commune
group by all;
