-- How many stored rows the file replaces (see replaced_rows): none on a first import of its periods.
select count(*) from replaced_rows;
