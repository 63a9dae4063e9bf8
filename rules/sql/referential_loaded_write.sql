-- Record the referential just loaded (its digest: getvariable('referential_digest')).
create or replace table referential_state as
select getvariable('referential_digest')::varchar as digest;
