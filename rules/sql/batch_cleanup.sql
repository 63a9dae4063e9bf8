-- After a batch, committed or not: the batch's working objects go.
drop table if exists replaced_rows;
drop table if exists batch_periods;
