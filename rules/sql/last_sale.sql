-- The latest sale in the store: where the headline window ends.
select max(date_mutation) from dvf_rows;
