-- Rows whose commune code the referential does not know.
select count(*) from dvf_rows d anti join communes c on c.code = d.code_commune;
