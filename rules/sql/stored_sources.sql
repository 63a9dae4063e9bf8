-- The sha256 of every file the store holds rows of: a file already there is not imported again.
select distinct source_sha256 from dvf_rows;
