-- Each stored year with a signature that changes exactly when its rows do (only an import
-- changes rows, and it gives them its batch id and source file): what tells the statistics
-- pass which years a release touched.
select
    annee::integer as annee,
    count(*)::varchar || '/' || string_agg(distinct batch_id::varchar || ':' || source_sha256, ',' order by batch_id::varchar || ':' || source_sha256) as signature
from dvf_rows
group by all
order by all;
