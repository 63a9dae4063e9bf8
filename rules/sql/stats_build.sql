-- The places whose documents this pass writes: levels (?) and codes (?).
create or replace temp table st_build as
select unnest(?::varchar[]) as level, unnest(?::varchar[]) as code;
