-- Single-good sales of one flat or one house, with their price per m2 and their places.
-- Etalab "Statistiques DVF" steps 1-4 are sales_deduped and sales_single_good; here step 5:
-- price/m2 = value / built surface, NULL (0 or missing) and >= max_price_m2 dropped. Then the
-- plausibility bounds (min_surface..max_surface m2, at least min_price_m2 EUR/m2): a row outside
-- them stays here, marked, so the funnel can count it, and place_sales leaves it out of every figure.
-- Places: a former (merged) code counts for its current commune; an arrondissement of Paris,
-- Lyon or Marseille for itself and for its city. Unknown codes are reported, not published.
-- `code_commune` is the code DVF gives (the part the row came from, see stats_changed.sql).
create or replace temp table sales as
with priced as (
    select
        *,
        valeur_fonciere / surface_reelle_bati as prix_m2
    from sales_single_good
    where list_contains(getvariable('type_codes'), code_type_local)
      and valeur_fonciere is not null
      and surface_reelle_bati is not null
      and valeur_fonciere >= getvariable('min_value')
),
placed as (
    select
        p.*,
        case when c.kind = 'former' then c.parent else c.code end as commune,
        case when c.kind = 'arrondissement' then c.parent end as city
    from priced p
    join communes c on c.code = p.code_commune
    where p.prix_m2 < getvariable('max_price_m2')
)
select
    placed.date_mutation,
    year(placed.date_mutation)::integer as annee,
    getvariable('type_names')[list_position(getvariable('type_codes'), placed.code_type_local)] as type,
    placed.valeur_fonciere,
    placed.surface_reelle_bati,
    placed.nombre_pieces_principales,
    placed.prix_m2,
    placed.surface_reelle_bati between getvariable('min_surface') and getvariable('max_surface')
        and placed.prix_m2 >= getvariable('min_price_m2') as plausible,
    placed.commune,
    placed.city,
    c.departement,
    c.region,
    placed.code_commune
from placed
join communes c on c.code = placed.commune
-- A scoped build (departements=...): every figure, France's too, covers those departments only.
where getvariable('scope') = ''
   or list_contains(string_split(getvariable('scope'), ','), c.departement);
