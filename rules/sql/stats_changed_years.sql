-- The years holding a changed part (st_changed): the years the pass goes through.
select distinct annee from st_changed order by annee;
