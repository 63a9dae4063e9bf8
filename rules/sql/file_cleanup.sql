-- After a file of a batch, and after the batch, committed or not: the file's working objects go
-- (a batch imported in a copy of the store drops them before each file's commit, which frees
-- them: dropped within the transaction that made them, they are held until it ends).
drop macro if exists raw_line;
drop macro if exists raw_mutation_id;
drop view if exists leaving_rows;
drop view if exists changed_period_rows;
drop table if exists replaced_rows;
drop table if exists period_rows;
drop table if exists period_mutations;
drop table if exists compared_parts;
drop table if exists changed_parts;
drop view if exists incoming_rows;
drop view if exists staged_ids;
drop table if exists part_ids;
drop table if exists staged;
drop view if exists stg_rows;
drop view if exists raw_lines;
drop view if exists geo_lines;
drop view if exists staged_lines;
drop view if exists file_keys;
drop table if exists wanted_lines;
drop table if exists candidate_parts;
drop table if exists covered_parts;
drop table if exists file_digests;
drop table if exists file_mutations;
drop table if exists line_ids;
drop table if exists line_keys;
drop table if exists file_lines;
drop view if exists file_text;
drop table if exists open_parts;
drop view if exists outside_rows;
drop view if exists covered_periods;
