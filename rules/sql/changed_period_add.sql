-- One more changed period (year, half-year, department; '' for none), tied to a changed one by a
-- mutation (see period_links.sql).
insert into changed_periods values (?::smallint, ?::tinyint, nullif(?, ''));
