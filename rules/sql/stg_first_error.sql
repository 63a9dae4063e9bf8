-- The first staged row (in file order) holding a value we cannot store, with the field and value
-- (the checks: staged.sql).
select i.line, s.bad.field, s.bad.value
from staged s
join staged_ids i on i.rid = s.rowid
where s.bad is not null
order by i.line
limit 1;
