-- A raw file's mutations whose lines lie in more than one part (a sale across communes), each as
-- the list of its parts, as part_links.sql gives them: a partial import stages all of them if it
-- stages one, as a whole import would change all of them if one changed (store._pick_lines).
select list(distinct [
    i.annee::varchar, i.semestre::varchar, coalesce(i.code_departement, ''), coalesce(i.code_commune, '')
])
from line_ids i
semi join file_mutations m on m.mutation = i.mutation and m.multi
group by i.mutation;
