-- The years holding a changed part (st_changed), the years the pass goes through, each with its
-- number of changed parts (communes, and '' for rows without a commune code).
select annee, count(*) from st_changed group by annee order by annee;
