-- Rows left after each step of the method, per year: what the quality gate compares between
-- releases, and the per-stage counts of health.json. One year at a time (stat_year).
create or replace temp table filter_funnel as
with raw as (
    select annee, count(*)::bigint as n from dvf_rows
    where annee = getvariable('stat_year')
    group by all
),
deduped as (
    select
        annee,
        count(*)::bigint as deduped,
        count(*) filter (
            where list_contains(getvariable('kept_natures'), nature_mutation)
        )::bigint as natures_kept
    from sales_deduped
    group by all
),
single as (
    select annee, count(*)::bigint as n from sales_single_good where list_contains(getvariable('type_codes'), code_type_local) group by all
),
published as (
    select annee, count(*)::bigint as n, count(*) filter (where plausible)::bigint as plausible
    from sales
    group by all
)
select
    raw.annee::varchar as annee,
    raw.n as rows,
    coalesce(deduped.deduped, 0) as deduped,
    coalesce(deduped.natures_kept, 0) as natures_kept,
    coalesce(single.n, 0) as single_good,
    coalesce(published.n, 0) as priced,
    coalesce(published.plausible, 0) as plausible
from raw
left join deduped using (annee)
left join single using (annee)
left join published using (annee);
