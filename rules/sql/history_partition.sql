-- The rows of one stored period in a total order (a source line is one row), so its Parquet
-- bytes depend on its rows only. Plain equality on the department lets DuckDB skip row groups.
select *
from dvf_rows
where annee = getvariable('annee')
  and semestre = getvariable('semestre')
  and (code_departement = getvariable('departement')
       or (getvariable('departement') is null and code_departement is null))
order by source_sha256, source_line;
