-- The staged file's rows go into the store (the rows they replace are deleted after).
insert into dvf_rows from incoming_rows;
