-- The statistics pass sorts what it fetches: DuckDB need not keep insertion order (less memory).
set preserve_insertion_order = false;
