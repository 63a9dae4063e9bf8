-- Mutations whose rows lie in more than one of the compared parts (a sale across communes), each as
-- the list of its parts: if one of them changes, all of them must, or the mutation would be split
-- between the old file's rows and the new one's.
select list(distinct [
    r.annee::varchar, r.semestre::varchar, coalesce(r.code_departement, ''), coalesce(r.code_commune, '')
])
from period_rows r
join period_mutations m on m.old = r.old and m.mutation = r.mutation
where m.multi
group by r.old, r.mutation;
