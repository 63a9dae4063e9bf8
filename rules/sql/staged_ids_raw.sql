-- The line and mutation id of each staged row of a raw DGFiP file, by staged's rowid (`rid`, what
-- incoming_rows.sql joins on). Mutation ids are rebuilt in file order as Etalab's geo-dvf builder
-- does: a new mutation starts whenever the price or the date, as written, differs from the
-- previous row's; id = '<year of the first row>-<n>'. Narrow on purpose: the window sorts only
-- (rowid, price, date), not the wide rows.
create or replace temp table staged_ids as
with starts as (
    select
        rowid as rid,
        case
            when price_text is distinct from lag(price_text) over w
                or date_text is distinct from lag(date_text) over w
                then 1 else 0
        end as starts_mutation
    from staged
    window w as (order by rowid)
)
select
    rid,
    (rid - (select min(rowid) from staged) + 2)::bigint as line,
    (select right(date_text, 4) from staged order by rowid limit 1) || '-'
        || sum(starts_mutation) over (order by rid rows between unbounded preceding and current row)
        as id_mutation
from starts;
