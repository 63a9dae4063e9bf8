-- DuckDB draws a progress bar on stdout for any query over two seconds, on a terminal or not: a CI
-- log of a full statistics pass filled with them. A run says what it does in its own bars and
-- summary lines (rules/progress.py). A session setting (DuckDB refuses it in a connection's config).
set enable_progress_bar = false;
