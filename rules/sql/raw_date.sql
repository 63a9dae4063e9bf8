-- A raw DGFiP date (dd/mm/yyyy) as a date, or null: stg_raw_rows.sql and line_keys.sql read it so.
create or replace temp macro raw_date(text) as try_strptime(text, '%d/%m/%Y')::date;
