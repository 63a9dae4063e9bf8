-- The threads DuckDB runs on (the `threads` setting, or every core).
select current_setting('threads')::integer;
