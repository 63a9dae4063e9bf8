-- Keep the changed places' figures for the next pass: the place_* temp tables (computed for
-- st_dirty only, or for every place in a full pass after stats_reset) replace their stored rows.
-- Series are by year, so only the recomputed years of a changed place are replaced.
create table if not exists st_headline as from place_headline limit 0;
delete from st_headline using st_dirty d where st_headline.level = d.level and st_headline.code = d.code;
insert into st_headline from place_headline;

create table if not exists st_rooms as from place_rooms limit 0;
delete from st_rooms using st_dirty d where st_rooms.level = d.level and st_rooms.code = d.code;
insert into st_rooms from place_rooms;

create table if not exists st_period as from place_period limit 0;
delete from st_period using st_dirty d where st_period.level = d.level and st_period.code = d.code;
insert into st_period from place_period;

create table if not exists st_series as from place_series limit 0;
delete from st_series using st_dirty d
where st_series.level = d.level and st_series.code = d.code
  and list_contains(getvariable('stat_years'), left(st_series.period, 4)::integer);
insert into st_series from place_series;

create table if not exists st_seasonality as from place_seasonality limit 0;
delete from st_seasonality using st_dirty d
where st_seasonality.level = d.level and st_seasonality.code = d.code;
insert into st_seasonality from place_seasonality;

create table if not exists st_recent as from place_recent limit 0;
delete from st_recent using st_dirty d where d.level = 'commune' and st_recent.code = d.code;
insert into st_recent from place_recent;
