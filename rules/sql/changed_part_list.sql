-- The parts the file changes so far (see changed_parts.sql), as text ('' for no department or commune).
select annee::varchar, semestre::varchar, coalesce(code_departement, ''), coalesce(code_commune, '')
from changed_parts;
