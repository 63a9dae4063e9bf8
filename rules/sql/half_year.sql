-- The half-year of a sale's date (1: January-June, 2: July-December): a part's second key after
-- the year. staged.sql and line_keys.sql both place a row with it.
create or replace temp macro half_year(d) as (case when month(d) <= 6 then 1 else 2 end)::tinyint;
