-- What the store holds, by source file: the body of build/store.json (no timestamps).
select source_file, source_sha256, source_format, count(*)::bigint,
       min(date_mutation)::varchar, max(date_mutation)::varchar
from dvf_rows
group by all
order by min(date_mutation), source_file;
