-- Mutations whose rows lie in more than one of the compared periods (a sale across a department
-- boundary), each as the list of its periods: if one of them changes, all of them must, or the
-- mutation would be split between the old file's rows and the new one's.
select list(distinct [annee::varchar, semestre::varchar, coalesce(code_departement, '')])
from period_rows
group by old, source_sha256, id_mutation
having count(distinct [annee::varchar, semestre::varchar, coalesce(code_departement, '')]) > 1;
