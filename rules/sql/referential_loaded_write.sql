-- Record the referential just loaded (its digest: getvariable('referential_digest')).
delete from referential_state;
insert into referential_state values (getvariable('referential_digest'));
