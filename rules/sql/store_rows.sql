-- The file's rows go into the store: all of them on the first import of its periods.
insert into dvf_rows from incoming_rows;
