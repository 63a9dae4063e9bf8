-- When the store last changed: the end of its latest successful import.
select strftime(max(completed), '%Y-%m-%dT%H:%M:%S.%f') from update_log where status = 'success';
