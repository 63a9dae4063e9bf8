-- A full pass: the stored statistics are dropped and computed again for every year and place.
drop table if exists st_sales;
drop table if exists st_headline;
drop table if exists st_rooms;
drop table if exists st_period;
drop table if exists st_series;
drop table if exists st_seasonality;
drop table if exists st_recent;
drop table if exists st_funnel;
