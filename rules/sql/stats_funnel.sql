-- The recomputed parts' funnel (filter_funnel.sql: the year stat_year, whole in a full pass)
-- replaces their stored one.
create table if not exists st_funnel as from filter_funnel limit 0;
delete from st_funnel
where annee = getvariable('stat_year')
  and (
      getvariable('stat_full')
      or part in (select part from st_changed where annee = getvariable('stat_year'))
  );
insert into st_funnel from filter_funnel;
