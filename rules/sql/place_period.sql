-- The period each place's figures cover: first and last sale kept, and how many, all years.
create or replace temp table place_period as
select level, code, min(date_mutation)::varchar as first_sale, max(date_mutation)::varchar as last_sale,
       count(*)::integer as sales
from place_sales
group by all;
