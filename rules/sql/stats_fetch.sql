-- What documents are assembled from: the stored figures of the places being written (st_build);
-- headline figures of every place (a parent lists its children's).
create or replace temp view fetch_rooms as from st_rooms semi join st_build using (level, code);
create or replace temp view fetch_period as from st_period semi join st_build using (level, code);
create or replace temp view fetch_series as from st_series semi join st_build using (level, code);
create or replace temp view fetch_seasonality as from st_seasonality semi join st_build using (level, code);
create or replace temp view fetch_recent as
    from st_recent r semi join (select code from st_build where level = 'commune') b using (code);
create or replace temp view fetch_neighbours as
    from place_neighbours n semi join (select code from st_build where level = 'commune') b using (code);
