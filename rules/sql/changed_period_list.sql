-- The periods the file changes so far (see changed_periods.sql), as text ('' for no department).
select annee::varchar, semestre::varchar, coalesce(code_departement, '') from changed_periods;
