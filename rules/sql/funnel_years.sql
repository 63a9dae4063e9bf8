-- The stored funnel (st_funnel, by part) summed by year: rows left after each step of the method.
create or replace temp view funnel_years as
select
    annee::varchar as annee,
    sum(rows)::bigint as rows,
    sum(deduped)::bigint as deduped,
    sum(natures_kept)::bigint as natures_kept,
    sum(single_good)::bigint as single_good,
    sum(priced)::bigint as priced,
    sum(plausible)::bigint as plausible
from st_funnel
group by annee;
