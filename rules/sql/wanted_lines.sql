-- The lines of the parts a raw file may change (candidate_parts.sql), by their place in the file:
-- the ones a partial import stages (lines_wanted.sql). A line with no year (see line_keys.sql) is
-- one of them: its part is a candidate.
create or replace temp table wanted_lines as
select k.rid
from file_keys k
semi join candidate_parts c
  on c.annee is not distinct from k.annee and c.semestre is not distinct from k.semestre
 and c.code_departement is not distinct from k.code_departement
 and c.code_commune is not distinct from k.code_commune;
