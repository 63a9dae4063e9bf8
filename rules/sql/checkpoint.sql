-- Write everything committed into the database file now: close() does so too, but a failure there
-- (a full disk) is not raised, and a copy of the file would then miss what the WAL holds.
checkpoint;
