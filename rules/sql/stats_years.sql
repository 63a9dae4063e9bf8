-- The stored years (st_parts): the years a full pass goes through.
select distinct annee from st_parts order by annee;
