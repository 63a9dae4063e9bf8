-- Where the headline window ends: the latest year holding at least 1 % of the rows of the busiest
-- year (so a handful of misdated rows cannot move the window and blank every figure), and that
-- year's last sale (a December sale marks a complete year, the reference of the evolutions).
with years as (
    select annee, count(*) as n, max(date_mutation) as last_sale
    from dvf_rows
    group by annee
)
select annee, last_sale
from years
where n >= greatest(1, 0.01 * (select max(n) from years))
order by annee desc
limit 1;
