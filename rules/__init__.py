"""ImmoStats build rules: DVF files -> DuckDB history -> per-place JSON -> static site.

`dodo.py` declares the doit tasks; every step it runs lives in this package, and the SQL
it runs lives in `rules/sql/`, one file per table or view.
"""
