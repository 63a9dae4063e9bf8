-- The last five imports, for health.json and the dashboard.
select batch_id, status, min(started), max(completed), sum(rows_imported), any_value(error)
from update_log
group by batch_id, status
order by batch_id desc
limit 5;
