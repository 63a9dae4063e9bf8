-- The file's rows whose commune code the referential does not know, by code: kept, reported. Read
-- from staged (its rows are incoming_rows' rows), without incoming_rows' join to the mutation ids.
select coalesce(f.code_commune, '(vide)'), count(*)
from staged f
anti join communes c on c.code = f.code_commune
group by all;
