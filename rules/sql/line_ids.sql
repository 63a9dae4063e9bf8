-- Each line of a raw DGFiP file (file_keys.sql: all of its lines) with its mutation's number, as
-- Etalab's geo-dvf builder numbers them: in file order, a new mutation starts whenever the price or
-- the date, as written, differs from the previous line's. staged_ids_whole.sql and
-- part_ids.sql make them ids; file_mutations.sql and file_digests.sql group the lines by
-- them, from this table alone (joined to file_keys again, they cost a release 0.5 s more). The
-- windows are empty (OVER ()): DuckDB then keeps the rows' order, which is the file's (its
-- documented order preservation, with ordered.sql), and streams them: 0.7 s for 3.5 million lines,
-- where ordering them by rid took 1.7 s (2026-12-07). `previous` is the rid of the row before,
-- which line_order.sql checks.
create or replace temp table line_ids as
with starts as (
    select
        *,
        lag(rid) over () as previous,
        case
            when price_text is distinct from lag(price_text) over ()
                or date_text is distinct from lag(date_text) over ()
                then 1 else 0
        end as starts_mutation
    from file_keys
)
select
    rid,
    previous,
    lh,
    annee,
    semestre,
    code_departement,
    code_commune,
    sum(starts_mutation) over (rows between unbounded preceding and current row) as mutation
from starts;
