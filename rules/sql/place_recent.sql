-- The most recent sales of each commune, arrondissement and city: no address, no identifier.
-- Ties are broken on content only, so the order does not move when DVF renumbers mutations.
create or replace temp table place_recent as
select code, date_mutation::varchar as date, type, surface_reelle_bati as surface,
       nombre_pieces_principales as pieces, valeur_fonciere as prix, round(prix_m2)::integer as prix_m2
from place_sales
where level = 'commune'
qualify row_number() over (
    partition by code
    order by date_mutation desc, type, surface_reelle_bati, valeur_fonciere, nombre_pieces_principales
) <= getvariable('recent_sales');
