-- The import numbers mutations and reports lines in file order: staged.sql's table must keep the
-- order in which the file's rows were read (DuckDB's default; the statistics pass turns it off on
-- its own connection, and a setting is shared by the connections open on one database).
set preserve_insertion_order = true;
