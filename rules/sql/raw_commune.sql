-- A raw DGFiP line's commune code as the store writes it, from its department and commune fields:
-- department (2) + commune (3), zero-padded; overseas (97x) = 97x + 2 digits (a file may write the
-- commune with its department's last digit: 971 + 101 -> 97101). stg_raw_rows.sql and
-- line_keys.sql both place a line with it.
create or replace temp macro raw_commune(departement, commune) as
case
    when raw_departement(departement) is null or commune is null then null
    when length(raw_departement(departement)) = 3 and length(commune) = 3
        and left(commune, 1) = right(raw_departement(departement), 1)
        then left(raw_departement(departement), 2) || commune
    when length(raw_departement(departement)) = 3 then raw_departement(departement) || lpad(commune, 2, '0')
    else raw_departement(departement) || lpad(commune, 3, '0')
end;
