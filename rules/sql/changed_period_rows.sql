-- The compared rows (period_rows.sql), on both sides, that lie in a part the file changes (see
-- changed_parts.sql; the parts tied to one by a mutation included), picked by the parts' hash:
-- the stored ones leave the store (leaving_rows.sql) and both sides are what it changes
-- (row_changes.sql). A view: a table would hold up to all the compared rows (a release that
-- changes most parts) until the batch's transaction ends. Joining on the part's four columns
-- through a table macro cost a release 0.8 s (2026-12-07).
create or replace temp view changed_period_rows as
select r.*
from period_rows r
semi join changed_parts c on c.part = r.part;
