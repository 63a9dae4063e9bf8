-- The stored rows that leave the store: those of the parts the file changes (changed_period_rows.sql),
-- as period_rows holds them (their row id, part and mutation). Read by cut_parts_add.sql, then by
-- delete_replaced.sql.
create or replace temp view leaving_rows as
select * from changed_period_rows where old;
