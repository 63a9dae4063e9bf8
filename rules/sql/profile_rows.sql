-- Rows per year and department: what the quality gate compares between releases.
select annee::varchar, coalesce(code_departement, ''), count(*) from dvf_rows group by all;
