-- One more changed part (year, half-year, department, commune; '' for none), tied to a changed one
-- by a mutation (see part_links.sql).
insert into changed_parts values (?::smallint, ?::tinyint, nullif(?, ''), nullif(?, ''));
