"""Import DVF files into the DuckDB history store, all or nothing.

A release replaces the periods it contains and keeps the others: each file's rows replace the
stored rows of the same (year, half-year, department), so the store keeps years that DVF's
five-year window has dropped, and an October half-year file does not wipe the first half of
that year. A file already in the store (same sha256) is not imported again. Everything a batch
does happens in one transaction: on any error the tables are exactly as before, and a `failed`
row in `update_log` says why.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import orjson

from rules import reference
from rules.errors import ImmoStatsError, InputError
from rules.files import canonical_json, sha256_file, write_if_changed
from rules.paths import Paths
from rules.settings import Settings
from rules.sources import CheckedFile, check

SQL_DIR = Path(__file__).parent / "sql"
SQL_FILES = [
    SQL_DIR / f"{n}.sql"
    for n in (
        "dvf_rows",
        "update_log",
        "communes",
        "departements",
        "regions",
        "raw_lines",
        "geo_lines",
        "stg_raw_rows",
        "stg_geo_rows",
        "stg_first_error",
        "incoming_rows",
    )
]
SCHEMA_VERSION = 1
DECIMAL_RE = r"[0-9]+(\.[0-9]*)?([eE][+-]?[0-9]+)?"

# Field names as each format's header spells them, for error messages people can act on.
_RAW_LABELS = {
    "date_mutation": "Date mutation",
    "nature_mutation": "Nature mutation",
    "valeur_fonciere": "Valeur fonciere",
    "surface_reelle_bati": "Surface reelle bati",
    "surface_terrain": "Surface terrain",
    "nombre_pieces_principales": "Nombre pieces principales",
    "nombre_lots": "Nombre de lots",
    "numero_disposition": "No disposition",
    "code_type_local": "Code type local",
    **{
        f"lot{i}_surface_carrez": f"Surface Carrez du {i}{'er' if i == 1 else 'eme'} lot" for i in range(1, 6)
    },
}
_PROBLEMS = {
    "date_mutation": "is not a valid date",
    "nature_mutation": "is not a known nature of mutation",
    "code_type_local": "is not a known local type (1-4)",
}

Log = Callable[[str], None]


def sql(name: str) -> str:
    return (SQL_DIR / f"{name}.sql").read_text("utf-8")


def set_variables(con: duckdb.DuckDBPyConnection, values: dict[str, object]) -> None:
    """Hand values to the SQL files, which read them with getvariable(): no SQL is formatted."""
    for name, value in values.items():
        con.execute(f"set variable {name} = ?", [value])


def connect(paths: Paths, settings: Settings, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the store with bounded memory and a spill folder inside build/."""
    paths.build.mkdir(parents=True, exist_ok=True)
    config: dict[str, str | int] = {"memory_limit": settings.memory_limit}
    if not read_only:
        (paths.tmp / "duckdb").mkdir(parents=True, exist_ok=True)
        config["temp_directory"] = str(paths.tmp / "duckdb")
    if settings.threads:
        config["threads"] = settings.threads
    return duckdb.connect(str(paths.db), read_only=read_only, config=config)


@dataclass
class FileResult:
    """What one file did to the store."""

    name: str
    sha256: str
    fmt: str = ""
    rows: int = 0
    replaced: int = 0
    added: int = 0
    removed: int = 0
    unknown: dict[str, int] = field(default_factory=dict)
    skipped: bool = False
    seconds: float = 0.0


def import_files(paths: Paths, files: list[Path], settings: Settings, log: Log = print) -> list[FileResult]:
    """Import `files` as one batch, then refresh `store.json`. Raises InputError on bad input."""
    con = connect(paths, settings)
    try:
        con.execute(sql("dvf_rows"))
        con.execute(sql("update_log"))
        present = {r[0] for r in con.execute("select distinct source_sha256 from dvf_rows").fetchall()}
        results = [FileResult(p.name, sha256_file(p)) for p in files]
        todo = [(p, r) for p, r in zip(files, results, strict=True) if r.sha256 not in present]
        for r in results:
            r.skipped = r.sha256 in present
        if todo:
            _import_batch(con, paths, todo, log)
        else:
            load_referential(con)
        write_if_changed(paths.store_manifest, canonical_json(store_state(con)))
        return results
    finally:
        con.close()


def _import_batch(
    con: duckdb.DuckDBPyConnection, paths: Paths, todo: list[tuple[Path, FileResult]], log: Log
) -> None:
    batch_id = con.execute("select coalesce(max(batch_id), 0) + 1 from update_log").fetchone()[0]
    started = _now()
    checked: list[CheckedFile] = []
    current: Path | None = None
    try:
        con.execute("begin transaction")
        load_referential(con)
        con.execute(sql("batch_periods"))
        for path, result in todo:
            current = path
            t0 = time.monotonic()
            cf = check(path, paths.tmp, result.sha256)
            checked.append(cf)
            _stage(con, cf, batch_id)
            _store_file(con, cf, result)
            result.fmt, result.rows, result.seconds = cf.fmt, cf.rows, time.monotonic() - t0
        current = None
        for _, r in todo:
            con.execute(
                """insert into update_log (batch_id, source_file, sha256, source_format, rows_imported,
                       rows_replaced, rows_unknown_commune, started, completed, status, rows_added,
                       rows_removed)
                   values (?, ?, ?, ?, ?, ?, ?, ?, ?, 'success', ?, ?)""",
                [
                    batch_id,
                    r.name,
                    r.sha256,
                    r.fmt,
                    r.rows,
                    r.replaced,
                    sum(r.unknown.values()),
                    started,
                    _now(),
                    r.added,
                    r.removed,
                ],
            )
        con.execute("commit")
    except (ImmoStatsError, duckdb.Error) as e:
        con.execute("rollback")
        err = e if isinstance(e, ImmoStatsError) else _duckdb_input_error(current or todo[0][0], e)
        _log_failure(con, batch_id, todo, started, err)
        raise err from None
    finally:
        con.execute("drop view if exists replaced_rows")
        con.execute("drop table if exists batch_periods")
        for cf in checked:
            if cf.data_path != cf.path:
                cf.data_path.unlink(missing_ok=True)
    for _, r in todo:
        log(
            f"imported {r.name}: {r.rows:,} rows ({r.fmt}), {r.replaced:,} stored rows replaced, "
            f"{r.seconds:.1f} s ({r.rows / max(r.seconds, 1e-6):,.0f} rows/s)"
        )
        if r.unknown:
            shown = ", ".join(f"{c} ({n})" for c, n in sorted(r.unknown.items())[:8])
            log(
                f"warning: {r.name}: {sum(r.unknown.values())} rows with an unknown commune code, "
                f"kept in the store but not published: {shown}"
            )


def record_failure(paths: Paths, settings: Settings, source: str, error: ImmoStatsError) -> None:
    """A failed row in update_log for a failure before any import (API down, bad download)."""
    con = connect(paths, settings)
    try:
        con.execute(sql("dvf_rows"))
        con.execute(sql("update_log"))
        batch_id = con.execute("select coalesce(max(batch_id), 0) + 1 from update_log").fetchone()[0]
        now = _now()
        con.execute(
            """insert into update_log (batch_id, source_file, started, completed, status, error)
               values (?, ?, ?, ?, 'failed', ?)""",
            [batch_id, source, now, now, str(error)],
        )
    finally:
        con.close()


def load_referential(con: duckdb.DuckDBPyConnection) -> None:
    for name, path in (
        ("communes", reference.COMMUNES),
        ("departements", reference.DEPARTEMENTS),
        ("regions", reference.REGIONS),
    ):
        set_variables(con, {f"{name}_csv": str(path)})
        con.execute(sql(name))


def _stage(con: duckdb.DuckDBPyConnection, cf: CheckedFile, batch_id: int) -> None:
    """Read one checked file into `incoming_rows`, refusing the first value we cannot store."""
    set_variables(
        con,
        {
            "src": str(cf.data_path),
            "decimal_re": DECIMAL_RE,
            "batch_id": batch_id,
            "source_file": cf.name,
            "source_sha256": cf.sha256,
            "source_format": cf.fmt,
        },
    )
    con.execute(sql(f"{cf.fmt}_lines"))
    read = con.execute(f"select count(*) from {cf.fmt}_lines").fetchone()[0]
    if read != cf.rows:  # never import a file DuckDB read differently from its lines
        raise InputError(cf.path, f"{cf.rows:,} data lines but {read:,} rows read (damaged line endings?)")
    con.execute(sql(f"stg_{cf.fmt}_rows"))
    bad = con.execute(sql("stg_first_error")).fetchone()
    if bad:
        line, fld, value = bad
        label = _RAW_LABELS.get(fld, fld) if cf.fmt == "raw" else fld
        problem = _PROBLEMS.get(fld, "is not a number")
        raise InputError(cf.path, f"{label} {value!r} {problem}", line)
    con.execute(sql("incoming_rows"))


def _store_file(con: duckdb.DuckDBPyConnection, cf: CheckedFile, result: FileResult) -> None:
    """Insert the file's rows, then replace the older rows of the periods it covers.

    Two files of one batch must not cover the same period and department: rows would double."""
    con.execute("insert into dvf_rows from incoming_rows")
    mine = "batch_id = getvariable('batch_id') and source_sha256 = getvariable('source_sha256')"
    con.execute(
        f"""insert into batch_periods
            select distinct source_file, source_sha256, annee, semestre, code_departement
            from dvf_rows where {mine}"""
    )
    clash = con.execute(
        """select p.annee, p.semestre, p.code_departement, o.source_file
           from batch_periods p join batch_periods o
             on o.annee = p.annee and o.semestre = p.semestre
            and o.code_departement is not distinct from p.code_departement
            and o.source_sha256 <> p.source_sha256
           where p.source_sha256 = getvariable('source_sha256') order by all limit 1"""
    ).fetchone()
    if clash:
        year, half, dep, other = clash
        raise InputError(
            cf.path,
            f"holds the same sales period as {other} ({year} S{half}, département {dep}): "
            "import one of them (a release's files, in one format)",
        )
    con.execute(sql("replaced_rows"))
    result.added, result.removed = con.execute(sql("row_changes")).fetchone()
    result.replaced = con.execute(
        "delete from dvf_rows where rowid in (select row_id from replaced_rows)"
    ).fetchone()[0]
    for code, n in con.execute(
        f"""select coalesce(d.code_commune, '(vide)'), count(*) from dvf_rows d
            anti join communes c on c.code = d.code_commune where {mine} group by all"""
    ).fetchall():
        result.unknown[code] = n


def _log_failure(
    con: duckdb.DuckDBPyConnection,
    batch_id: int,
    todo: list[tuple[Path, FileResult]],
    started: datetime,
    err: ImmoStatsError,
) -> None:
    """Record the failure for every file of the batch: none of them was imported."""
    culprit = getattr(err, "path", None)
    for path, r in todo:
        message = str(err) if str(path) == culprit or len(todo) == 1 else f"not imported: {err}"
        con.execute(
            """insert into update_log (batch_id, source_file, sha256, source_format, started, completed,
                   status, error)
               values (?, ?, ?, ?, ?, ?, 'failed', ?)""",
            [batch_id, r.name, r.sha256, r.fmt or None, started, _now(), message],
        )


_CSV_LINE = re.compile(r"CSV Error on Line: (\d+)")
_COLUMNS = re.compile(r"Expected Number of Columns: (\d+) Found: (\d+)")


def _duckdb_input_error(path: Path, e: duckdb.Error) -> InputError:
    """Turn DuckDB's multi-line CSV error into one line: file, line, what is wrong."""
    text = str(e)
    line = int(m.group(1)) if (m := _CSV_LINE.search(text)) else None
    if m := _COLUMNS.search(text):
        return InputError(
            path, f"expected {m.group(1)} fields, found {m.group(2)} (truncated or damaged file?)", line
        )
    first = text.strip().splitlines()[0] if text.strip() else type(e).__name__
    return InputError(path, f"cannot be read: {first}", line)


def imports_since(paths: Paths, batch: int | None) -> dict[str, int | None]:
    """The last successful batch, and the DVF rows added and removed by the imports after `batch`
    (None: since the beginning): what a new version brings. None where an old log cannot say."""
    con = duckdb.connect(str(paths.db), read_only=True)
    try:
        last, added, removed, unknown = con.execute(sql("imports_since"), [batch or 0]).fetchone()
    finally:
        con.close()
    counted = not unknown
    return {"batch": last, "added": added if counted else None, "removed": removed if counted else None}


def departements_present(paths: Paths) -> frozenset[str]:
    """The departments whose communes have rows in the store (empty before any import)."""
    if not paths.store_manifest.exists():
        return frozenset()
    return frozenset(orjson.loads(paths.store_manifest.read_bytes()).get("departements", ()))


def store_state(con: duckdb.DuckDBPyConnection) -> dict:
    """A description of what the store holds, with no timestamps: equal data, equal bytes."""
    sources = con.execute(
        """select source_file, source_sha256, source_format, count(*)::bigint,
                  min(date_mutation)::varchar, max(date_mutation)::varchar
           from dvf_rows group by all order by min(date_mutation), source_file"""
    ).fetchall()
    present = con.execute(
        """select distinct c.departement from dvf_rows r join communes c on c.code = r.code_commune
           order by 1"""
    ).fetchall()
    return {
        "schema": SCHEMA_VERSION,
        "departements": [d for (d,) in present],  # the default scope of a local build
        "referential": [sha256_file(p) for p in reference.FILES],
        "rows": sum(s[3] for s in sources),
        "sources": [
            {"file": f, "sha256": h, "format": fmt, "rows": n, "first_sale": a, "last_sale": b}
            for f, h, fmt, n, a, b in sources
        ],
    }


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)
