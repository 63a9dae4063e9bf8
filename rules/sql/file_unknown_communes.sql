-- The file's rows whose commune code the referential does not know, by code: kept, reported. Read
-- from its lines (file_keys: staged, or every line of a raw file staged in part).
select coalesce(f.code_commune, '(vide)'), count(*)
from file_keys f
anti join communes c on c.code = f.code_commune
group by all;
