-- The parts (a commune's year, see stats_parts.sql) of the year being recomputed (stat_year) whose
-- sales this pass recomputes: every stored one in a full pass (stat_full), else the changed ones
-- (st_changed, vanished parts included). The year's other steps read it.
create or replace temp table st_year_parts as
select part from st_parts where getvariable('stat_full') and annee = getvariable('stat_year')
union all
select part from st_changed where not getvariable('stat_full') and annee = getvariable('stat_year');
