-- The stored periods (year, half-year, department) as the history branch splits them, each with
-- a signature that changes exactly when its rows do: only an import changes rows, and an import
-- gives them its batch id and source file.
select
    annee,
    semestre,
    code_departement,
    count(*)::bigint as rows,
    count(*)::varchar || '/' || string_agg(distinct batch_id::varchar || ':' || source_sha256, ',' order by batch_id::varchar || ':' || source_sha256) as signature
from dvf_rows
group by all
order by all;
