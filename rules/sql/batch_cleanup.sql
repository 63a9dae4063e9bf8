-- After a batch, committed or not: the batch's working objects go.
drop view if exists leaving_rows;
drop view if exists changed_period_rows;
drop table if exists replaced_rows;
drop table if exists batch_periods;
drop table if exists period_rows;
drop table if exists period_mutations;
drop table if exists compared_parts;
drop table if exists changed_parts;
drop view if exists incoming_rows;
drop table if exists staged_ids;
drop table if exists staged;
drop view if exists stg_rows;
drop view if exists raw_lines;
drop view if exists geo_lines;
