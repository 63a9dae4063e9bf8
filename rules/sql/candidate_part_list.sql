-- The parts a raw file may change so far (candidate_parts.sql), as text ('' for no department or
-- commune).
select annee::varchar, semestre::varchar, coalesce(code_departement, ''), coalesce(code_commune, '')
from candidate_parts;
