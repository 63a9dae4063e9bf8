-- How many parts a whole import of the file would compare (covered_parts.sql).
select count(*) from covered_parts;
