-- Steps 2-4: Vente, VEFA and Adjudication only (kept_natures); dependencies and land (no type) removed BEFORE
-- counting goods, so they never make a sale multi-good; a mutation kept only if exactly one good
-- (flat, house or business premises) is left. A table: sales.sql and filter_funnel.sql both read it,
-- and as a view each evaluated its window again (a full France pass: 10.3 s for the two, 7.3 s now).
create or replace temp table sales_single_good as
select *
from sales_deduped
where list_contains(getvariable('kept_natures'), nature_mutation)
  and list_contains(getvariable('goods'), code_type_local)
qualify count(*) over (partition by src, id_mutation) = 1;
