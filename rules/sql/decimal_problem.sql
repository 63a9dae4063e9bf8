-- The problem of a decimal field's text (the `bad` struct staged.sql gives a row), or null: not a
-- plain decimal (no sign; an exponent is tolerated, as geo-dvf writes floats), or `bound` or more
-- (infinity included): `<field>@range`. One macro for the price and the seven surfaces.
create or replace temp macro decimal_problem(field, value, bound) as
case
    when value is not null and not regexp_full_match(value, getvariable('decimal_re'))
        then {'field': field, 'value': value}
    when try_cast(value as double) >= bound
        then {'field': field || '@range', 'value': value}
end;
