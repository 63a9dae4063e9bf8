"""The SQL of `rules/sql/`, run by name: one table, view or statement per file, no SQL in Python.

Values reach SQL as parameters (`?`) or as variables (`set_variables`, read with getvariable()),
never by formatting text. A module names the files it runs (`query.one(con, "next_batch")`), which
is also how `codedeps` finds them.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import TYPE_CHECKING, Any

from rules.lazy import duckdb
from rules.paths import SQL

if TYPE_CHECKING:  # an alias evaluated at import would load DuckDB (rules.lazy)
    Connection = duckdb.DuckDBPyConnection
Params = Sequence[Any] | None
Row = tuple[Any, ...]

SQL_DIR = SQL


Config = dict[str, str | bool | int | float | list[str]]


def connect(path: str, read_only: bool = False, config: Config | None = None) -> Connection:
    """Open a DuckDB database, as every connection of the project is opened: without DuckDB's own
    progress bar (no_progress_bar.sql)."""
    con = duckdb.connect(path, read_only=read_only, config=config or {})
    run(con, "no_progress_bar")
    return con


@cache
def sql(name: str) -> str:
    return (SQL_DIR / f"{name}.sql").read_text("utf-8")


def run(con: Connection, name: str, params: Params = None) -> Connection:
    """Execute one file of rules/sql/."""
    return con.execute(sql(name), params) if params is not None else con.execute(sql(name))


def rows(con: Connection, name: str, params: Params = None) -> list[Row]:
    return run(con, name, params).fetchall()


def first(con: Connection, name: str, params: Params = None) -> Row | None:
    """The first row, or None when there is none (a check that found nothing)."""
    return run(con, name, params).fetchone()


def one(con: Connection, name: str, params: Params = None) -> Row:
    """The row of a query that always returns exactly one (an aggregate)."""
    row = first(con, name, params)
    if row is None:
        raise AssertionError(f"rules/sql/{name}.sql returned no row")  # a bug, not an input error
    return row


def set_variables(con: Connection, values: dict[str, object]) -> None:
    """Hand values to the SQL files, which read them with getvariable(): no SQL is formatted."""
    for name, value in values.items():
        con.execute(f"set variable {name} = ?", [value])


def table(con: Connection, name: str, order: str | None = None) -> list[Row]:
    """Every row of a table or view the SQL files define, sorted (by all columns by default)."""
    rel = con.table(name)
    return rel.order(order or ", ".join(rel.columns)).fetchall()
