-- Rows left after each step of the method, per year and part (a commune's year, see
-- stats_parts.sql), for the year being recomputed (stat_year) and its parts st_year_parts lists:
-- summed by year (funnel_years.sql), what the quality gate compares between releases and the
-- per-stage counts of health.json. Every step counts rows of one part (a mutation lies in the
-- parts the import ties), so the sums are those of the whole year.
create or replace temp table filter_funnel as
with raw as (
    select annee::integer as annee, coalesce(code_commune, '') as part, count(*)::bigint as n
    from dvf_rows
    where annee = getvariable('stat_year')
      and coalesce(code_commune, '') in (select part from st_year_parts)
    group by all
),
deduped as (
    select
        annee::integer as annee,
        coalesce(code_commune, '') as part,
        count(*)::bigint as deduped,
        count(*) filter (
            where list_contains(getvariable('kept_natures'), nature_mutation)
        )::bigint as natures_kept
    from sales_deduped
    group by all
),
single as (
    select annee::integer as annee, coalesce(code_commune, '') as part, count(*)::bigint as n
    from sales_single_good
    where list_contains(getvariable('type_codes'), code_type_local)
    group by all
),
published as (
    select annee, code_commune as part, count(*)::bigint as n, count(*) filter (where plausible)::bigint as plausible
    from sales
    group by all
)
select
    raw.annee,
    raw.part,
    raw.n as rows,
    coalesce(deduped.deduped, 0) as deduped,
    coalesce(deduped.natures_kept, 0) as natures_kept,
    coalesce(single.n, 0) as single_good,
    coalesce(published.n, 0) as priced,
    coalesce(published.plausible, 0) as plausible
from raw
left join deduped using (annee, part)
left join single using (annee, part)
left join published using (annee, part);
