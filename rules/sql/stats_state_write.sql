-- Record what the statistics just committed were computed from: years (?), their signatures
-- (?) and the global digest (?).
delete from stats_state;
insert into stats_state
select unnest(?::integer[]), unnest(?::varchar[]), ?::varchar;
