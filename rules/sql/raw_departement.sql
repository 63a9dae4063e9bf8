-- A raw DGFiP file's department code as the store writes it: '1' -> '01' (Corsica's 2A/2B and the
-- overseas 97x as written). stg_raw_rows.sql and line_keys.sql both place a line with it.
create or replace temp macro raw_departement(code) as
case when length(code) = 1 then lpad(code, 2, '0') else code end;
