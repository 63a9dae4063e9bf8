"""Import DVF files into the DuckDB history store, all or nothing.

A release replaces the periods it contains and keeps the others: each file's rows replace the
stored rows of the same (year, half-year, department), so the store keeps years that DVF's
five-year window has dropped, and an October half-year file does not wipe the first half of
that year. Within them, a commune's half-year whose sales did not change keeps its stored rows,
provenance included, so a release rewrites what moved and an unchanged year's history partitions
and statistics stay as they were. A file that is its name's last import
(same sha256) is not imported again. A batch is all or nothing: on any error, or a kill, the
tables are exactly as before, and (but for a kill) a `failed` row in `update_log` says why. One
file is imported in one transaction. Several are imported into a copy of the store, committed
file by file, which replaces the store when all are in: in one transaction, each file's working
tables were held until the batch's end, spilled to disk from the second file of a cold build on,
and each file took longer than the last (five benchmark years: 48.7-50.8 s against 61.4-64.5 s).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path

import orjson

from rules import dvf, query, reference
from rules.errors import (
    DiskFullError,
    ImmoStatsError,
    InputError,
    OutOfMemoryError,
    interrupted,
    no_space,
    out_of_memory,
)
from rules.files import HashCache, canonical_json, write_if_changed
from rules.lazy import duckdb
from rules.paths import Paths, wal
from rules.query import set_variables
from rules.settings import Settings
from rules.sources import CheckedFile, check

# What turns a raw file's lines into typed rows, mutations and parts, what compares equal, and
# which parts get a digest: what a part's digest (part_digests.sql) is trusted under. An edit to any
# of them, or to the vocabulary, makes a new method, under which no digest made before counts: the
# next import of each year stages it whole.
STAGING_SQL = (
    "file_text",
    "file_lines",
    "line_order",
    "line_keys",
    "raw_lines",
    "stg_raw_rows",
    "raw_departement",
    "raw_commune",
    "raw_date",
    "half_year",
    "staged",
    "decimal_problem",
    "line_ids",
    "file_mutations",
    "file_digests",
    "file_keys_lines",
    "file_keys_staged",
    "raw_line",
    "raw_mutation_id",
    "part_ids",
    "dvf_rows",
    "incoming_rows",
    "period_rows",
    "period_mutations",
    "changed_parts",
    "part_links",
    "covered_periods",
    "outside_rows",
    "open_parts",
    "part_digests_write",
)
SCHEMA_VERSION = 1
FUTURE_MARGIN = timedelta(days=31)  # a sale dated later than today and this is refused
INTERRUPTED = "interrupted (Ctrl-C) during the import: nothing of this batch was stored"
DECIMAL_RE = r"[0-9]+(\.[0-9]*)?([eE][+-]?[0-9]+)?"

Log = Callable[[str], None]


@cache
def staging_method() -> str:
    """The digest of the raw import's method (STAGING_SQL, the checks' settings, the vocabulary)."""
    text = "".join(query.sql(name) for name in STAGING_SQL)
    text += DECIMAL_RE + repr(sorted(dvf.variables().items())) + repr(dvf.RAW_HEADER)
    return hashlib.sha256(text.encode()).hexdigest()


def note_imports(con: duckdb.DuckDBPyConnection, paths: Paths) -> None:
    """build/imports.json: the last import attempts (see Paths.imports)."""
    runs = [[str(v) if isinstance(v, datetime) else v for v in run] for run in query.rows(con, "import_runs")]
    write_if_changed(paths.imports, canonical_json(runs))


def clear_tmp(paths: Paths) -> None:
    """Empty build/tmp/: only a run holding the build lock gets here, so nothing in it is in use."""
    if paths.tmp.exists():
        shutil.rmtree(paths.tmp)


def connect(
    paths: Paths, settings: Settings, read_only: bool = False, db: Path | None = None
) -> duckdb.DuckDBPyConnection:
    """Open the store (or `db`, its working copy) with bounded memory and a spill folder in
    build/tmp/ (emptied by the next import). A read-only connection may be one of two processes
    reading the store side by side (a statistics pass's documents): each spills in its own."""
    paths.build.mkdir(parents=True, exist_ok=True)
    config: query.Config = {"memory_limit": settings.memory_limit}
    spill = paths.duckdb_tmp / f"read-{os.getpid()}" if read_only else paths.duckdb_tmp
    spill.mkdir(parents=True, exist_ok=True)
    config["temp_directory"] = str(spill)
    if settings.threads:
        config["threads"] = settings.threads
    return query.connect(str(db or paths.db), read_only=read_only, config=config)


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
    kept: int = 0  # parts (a commune's half-year) whose stored rows stayed: the same sales
    unknown: dict[str, int] = field(default_factory=dict)
    skipped: bool = False
    seconds: float = 0.0


def import_files(paths: Paths, files: list[Path], settings: Settings, log: Log = print) -> list[FileResult]:
    """Import `files` as one batch, then refresh `store.json`. Raises InputError on bad input."""
    clear_tmp(paths)  # what a killed run left (decompressed copies, DuckDB spill files)
    con = connect(paths, settings)
    try:
        query.run(con, "ordered")
        create_tables(con)
        present = {sha for (sha,) in query.rows(con, "stored_sources")}
        hashes = HashCache(paths.source_hashes)
        results = [FileResult(p.name, sha) for p, sha in zip(files, hashes.sha256s(files), strict=True)]
        hashes.save()
        todo: list[tuple[Path, FileResult]] = []
        first: dict[str, str] = {}
        held: dict[str, str] = {}  # the files the store holds: sha256 -> the name the source gives
        for path, r in zip(files, results, strict=True):
            r.skipped = r.sha256 in present or r.sha256 in first
            if r.sha256 in present:
                held.setdefault(r.sha256, r.name)
            elif r.sha256 in first:  # the same bytes under another name: imported once
                log(f"skipped {r.name}: the same content as {first[r.sha256]}")
            else:
                first[r.sha256] = r.name
                todo.append((path, r))
        if len(todo) > 1 and _checkpointed(con, paths.db):
            con.close()  # the file holds the whole store, to be copied
            con = _import_in_copy(paths, settings, todo, held)
        elif todo:
            _import_batch(con, paths, todo, held)
        else:
            load_referential(con)
        _report(todo, log)
        write_if_changed(paths.store_manifest, canonical_json(store_state(con)))
        note_imports(con, paths)
        return results
    finally:
        con.close()


def _checkpointed(con: duckdb.DuckDBPyConnection, db: Path) -> bool:
    """Whether the store's file now holds all of it (no WAL beside it): what a copy needs."""
    try:
        query.run(con, "checkpoint")
    except duckdb.Error:  # a full disk: the batch is imported in place, and fails there with its record
        return False
    return not wal(db).exists()


def _import_in_copy(
    paths: Paths, settings: Settings, todo: list[tuple[Path, FileResult]], held: dict[str, str]
) -> duckdb.DuckDBPyConnection:
    """Import a batch of several files into a copy of the store, then put the copy in its place;
    a connection to the store. The copy is the batch's transaction: each file is committed in it
    and its working tables go. A failure or a Ctrl-C, wherever it lands, removes the copy, then
    records the failure in the store (the copy's room may be what the record needs); a kill
    leaves the store as it was and the copy in build/tmp/, which the next import empties."""
    work, started = paths.db_work, _now()
    try:
        _copy_and_import(paths, settings, todo, held, work)
        if wal(work).exists() or wal(paths.db).exists():  # never the case after a checkpoint
            raise ImmoStatsError(f"{paths.db}: the import's copy of the store was not written whole")
        os.replace(work, paths.db)
    except BaseException as e:
        err = _batch_error(e, paths)
        _remove_copy(work)
        if err is None:
            raise  # a bug: a traceback
        with suppress(duckdb.Error, ImmoStatsError, OSError):  # the disk may refuse even this
            _record_batch_failure(paths, settings, todo, started, err)
        if interrupted(e):
            raise KeyboardInterrupt from None
        raise err from None
    finally:
        _remove_copy(work)
    return connect(paths, settings)


def _copy_and_import(
    paths: Paths, settings: Settings, todo: list[tuple[Path, FileResult]], held: dict[str, str], work: Path
) -> None:
    """The store copied to `work`, the batch imported into it, and all of it written in the file."""
    work.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(paths.db, work)
    con = connect(paths, settings, db=work)
    try:
        query.run(con, "ordered")
        _import_batch(con, paths, todo, held, in_copy=True)
        query.run(con, "checkpoint")  # a failure here raises (close() would say nothing)
    finally:
        con.close()


def _remove_copy(work: Path) -> None:
    for path in (work, wal(work)):
        path.unlink(missing_ok=True)


def _batch_error(e: BaseException, paths: Paths) -> ImmoStatsError | None:
    """What a batch in a copy failed with, for the record and the person; None for a bug."""
    if interrupted(e):
        return ImmoStatsError(INTERRUPTED)
    if no_space(e):
        return DiskFullError(paths.build)
    if out_of_memory(e):
        return OutOfMemoryError()
    if isinstance(e, ImmoStatsError):
        return e
    if isinstance(e, OSError):  # a file that cannot be read or written: the system's words
        return ImmoStatsError(f"{e.filename or paths.db_work}: {e.strerror or e}")
    if isinstance(e, duckdb.Error):  # opening or writing the copy (the batch's own are InputErrors)
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        return ImmoStatsError(f"{paths.db_work}: the import's copy of the store failed: {first}")
    return None


def _import_batch(
    con: duckdb.DuckDBPyConnection,
    paths: Paths,
    todo: list[tuple[Path, FileResult]],
    held: dict[str, str],
    in_copy: bool = False,
) -> None:
    """Import `todo` in one transaction, or (`in_copy`: `con` is a copy of the store) one per file,
    none of them covering a period of a file of the same source the store holds (`held`, by sha256:
    held_periods.sql). On a failure, raises it for the person; in place, rolls back and records it
    first (a copy's caller records it in the store)."""
    (batch_id,) = query.one(con, "next_batch")
    started = _now()
    checked: list[CheckedFile] = []
    current: Path | None = None
    try:
        con.begin()
        load_referential(con)
        query.run(con, "batch_periods")
        for sha256, name in held.items():
            query.run(con, "held_periods", [name, sha256])
        for path, result in todo:
            current = path
            t0 = time.monotonic()
            cf = check(path, paths.tmp, result.sha256)
            checked.append(cf)
            _store_file(con, cf, result, _stage(con, cf, batch_id))
            result.fmt, result.rows, result.seconds = cf.fmt, cf.rows, time.monotonic() - t0
            if in_copy:  # the file's working tables, dropped before the commit, are freed by it
                query.run(con, "file_cleanup")
                con.commit()
                con.begin()
        current = None
        for _, r in todo:
            query.run(
                con,
                "log_success",
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
            query.run(con, "import_periods_write", [batch_id, r.sha256])
        con.commit()
    except (KeyboardInterrupt, duckdb.InterruptException, RuntimeError) as e:  # Ctrl-C: undone, recorded
        if not interrupted(e):
            raise  # a RuntimeError of its own: a bug
        _undo(con, paths, batch_id, todo, started, ImmoStatsError(INTERRUPTED), in_copy)
        raise KeyboardInterrupt from None
    except (ImmoStatsError, duckdb.Error, OSError) as e:
        if no_space(e):
            err: ImmoStatsError = DiskFullError(paths.build)
        elif out_of_memory(e):
            err = OutOfMemoryError()
        elif isinstance(e, ImmoStatsError):
            err = e
        elif isinstance(e, duckdb.Error):
            err = _duckdb_input_error(current or todo[0][0], e)
        else:
            raise
        _undo(con, paths, batch_id, todo, started, err, in_copy)
        raise err from None
    finally:
        query.run(con, "file_cleanup")
        query.run(con, "batch_cleanup")
        for cf in checked:
            if cf.data_path != cf.path:
                cf.data_path.unlink(missing_ok=True)


def _counted(n: int, noun: str) -> str:
    """`n` and the noun, in the plural unless n is 1: "1 stored row", "0 stored rows"."""
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def _report(todo: list[tuple[Path, FileResult]], log: Log) -> None:
    """One line per imported file (once the batch is in the store), and its unknown communes."""
    for _, r in todo:
        log(
            f"imported {r.name}: {_counted(r.rows, 'row')} ({r.fmt}), "
            f"{_counted(r.replaced, 'stored row')} replaced, "
            + (f"{_counted(r.kept, 'unchanged commune half-year')} kept, " if r.kept else "")
            + f"{r.seconds:.1f} s ({r.rows / max(r.seconds, 1e-6):,.0f} rows/s)"
        )
        if r.unknown:
            shown = ", ".join(f"{c} ({n})" for c, n in sorted(r.unknown.items())[:8])
            log(
                f"warning: {r.name}: {sum(r.unknown.values())} rows with an unknown commune code, "
                f"kept in the store but not published: {shown}"
            )


def record_failure(paths: Paths, settings: Settings, source: str, error: ImmoStatsError) -> None:
    """A failed row in update_log for a failure before any import (API down, bad download)."""
    now = _now()
    _record(paths, settings, lambda con, batch: _log_failed_row(con, batch, source, None, None, now, error))


def _record(
    paths: Paths, settings: Settings, write: Callable[[duckdb.DuckDBPyConnection, int], None]
) -> None:
    """Record a failure in the store as the next batch's (`write` its rows), and imports.json."""
    con = connect(paths, settings)
    try:
        create_tables(con)
        (batch_id,) = query.one(con, "next_batch")
        write(con, batch_id)
        note_imports(con, paths)
    finally:
        con.close()


def create_tables(con: duckdb.DuckDBPyConnection) -> None:
    """The store's tables, where missing: the DVF rows, the import log, the parts an import cut a
    sale of (for the statistics pass), the raw parts' digests (for the next release) and the
    periods each import covered (filled from the rows in a store made before them): an import, a
    failure's record and a restore from git all start from them."""
    for name in ("dvf_rows", "update_log", "cut_parts", "part_digests"):
        query.run(con, name)
    if not query.one(con, "import_periods_known")[0]:
        query.run(con, "import_periods")
        query.run(con, "import_periods_fill")


REFERENTIAL_TABLES = {
    "communes": reference.COMMUNES,
    "departements": reference.DEPARTEMENTS,
    "regions": reference.REGIONS,
}


def load_referential(con: duckdb.DuckDBPyConnection) -> None:
    """The vendored referential into the store's tables, unless they hold it already: rewriting the
    35,000 communes at every import cost it 0.1 s (the test suite 18 s) and the file its pages.
    What they hold is the vendored files read by the SQL that loads them: both are in the digest."""
    loaders = "".join(query.sql(name) for name in REFERENTIAL_TABLES).encode()
    digest = " ".join([*reference.digests(), hashlib.sha256(loaders).hexdigest()])
    query.run(con, "referential_state")
    if query.first(con, "referential_loaded") == (digest,):
        return
    for name, path in REFERENTIAL_TABLES.items():
        set_variables(con, {f"{name}_csv": str(path)})
        query.run(con, name)
    set_variables(con, {"referential_digest": digest})
    query.run(con, "referential_loaded_write")


def _stage(con: duckdb.DuckDBPyConnection, cf: CheckedFile, batch_id: int) -> bool:
    """Read one checked file into `incoming_rows`, refusing the first value we cannot store.

    A raw file whose year the store knows by its parts' digests (a release republishing a year) is
    staged in part: only the lines of the parts it may change (`_pick_lines`) are typed and
    checked; the others are, as text, lines an earlier import stored. True then."""
    latest = datetime.now(UTC).date() + FUTURE_MARGIN
    set_variables(
        con,
        {
            "src": str(cf.data_path),
            "decimal_re": DECIMAL_RE,
            "batch_id": batch_id,
            "source_file": cf.name,
            "source_sha256": cf.sha256,
            "source_format": cf.fmt,
            "latest_date": latest,
            "raw_fields": len(dvf.RAW_HEADER),
            "staging_method": staging_method(),
            **dvf.variables(),
        },
    )
    for macro in ("half_year", "raw_date", "raw_departement", "raw_commune", "decimal_problem"):
        query.run(con, macro)
    partial = False
    if cf.fmt == "raw":
        query.run(con, "file_text")
        partial = _digests_known(con)
        set_variables(con, {"in_part": partial})
        if partial:
            _pick_lines(con)
        query.run(con, "lines_wanted" if partial else "lines_all")
        query.run(con, "raw_lines")
        query.run(con, "stg_raw_rows")
    else:
        query.run(con, "geo_lines")
        query.run(con, "stg_geo_rows")
    query.run(con, "staged")
    if not partial:
        query.run(con, "file_keys_staged")
    (read,) = query.one(con, "count_lines")
    if read != cf.rows:  # never import a file DuckDB read differently from its lines
        raise InputError(cf.path, f"{cf.rows:,} data lines but {read:,} rows read (damaged line endings?)")
    if cf.fmt == "raw":
        if not partial:  # a file staged in part numbered its lines first (_pick_lines)
            _digest_lines(con)
        query.run(con, "raw_line")
        query.run(con, "raw_mutation_id")
        if partial:
            query.run(con, "part_ids")
            query.run(con, "staged_ids_part")
        else:
            query.run(con, "staged_ids_whole")
    else:
        query.run(con, "staged_ids_geo")
    bad = query.first(con, "stg_first_error")
    if bad:
        line, problem_key, value = bad
        raise InputError(cf.path, _problem(cf.fmt, problem_key, value, latest), line)
    query.run(con, "incoming_rows")
    return partial


def _digests_known(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether to stage the file in part (digests_known.sql): a choice of speed, not of result."""
    return bool(query.one(con, "digests_known")[0])


def _problem(fmt: str, problem_key: str, value: str, latest: date) -> str:
    """What is wrong with a staged row's first bad value (staged.sql's `bad`), for a person."""
    if problem_key == "fields":
        return _fields_problem(len(dvf.RAW_HEADER), int(value))
    fld = problem_key.split("@")[0]
    label = dvf.RAW_LABELS.get(fld, fld) if fmt == "raw" else fld
    problem = dvf.PROBLEMS.get(problem_key, "is not a number").format(latest=latest.isoformat())
    return f"{label} {value!r} {problem}"


def _fields_problem(expected: int, found: int) -> str:
    if not found:
        return f"an empty line, where {expected} fields are expected"
    return f"expected {expected} fields, found {found} (truncated or damaged file?)"


def _digest_lines(con: duckdb.DuckDBPyConnection) -> None:
    """line_ids: each line of a raw file (file_keys) with its mutation, numbered in the file's order,
    which is checked (DuckDB documents that it keeps it, and a wrong order would give wrong
    mutations, never an error); then the digest of each of its parts (file_digests)."""
    query.run(con, "line_ids")
    (unordered,) = query.one(con, "line_order")
    if unordered:
        raise ImmoStatsError(f"DuckDB read {unordered:,} lines out of the file's order: nothing was imported")
    query.run(con, "file_mutations")
    query.run(con, "file_digests")


def _pick_lines(con: duckdb.DuckDBPyConnection) -> None:
    """`wanted_lines`: the lines of the parts a raw file may change, found from its lines' text
    (line_keys.sql) and the digests the store keeps (candidate_parts.sql), with every part a sale of
    the file ties to one of them (else the sale would be split between two imports).

    The store's own sales across parts need not be read (2.8 s of a release): a part left out has
    the digest of the import that last wrote its period, and its stored rows are that file's lines
    of it, or rows compared equal to them, sales included (a part whose stored sale ran outside
    that file's periods, which the comparison did not see whole, got no digest: open_parts.sql); a
    stored sale across it and another part was then a sale of that file, whose lines of the part
    the new file holds unchanged (same digest): its lines tie the two parts too."""
    query.run(con, "file_lines")
    query.run(con, "line_keys")
    query.run(con, "file_keys_lines")
    _digest_lines(con)
    query.run(con, "covered_parts")
    query.run(con, "candidate_parts")
    _close_under_ties(con, "candidate_part_list", ("file_ties",), "candidate_part_add")
    query.run(con, "wanted_lines")


def _store_file(con: duckdb.DuckDBPyConnection, cf: CheckedFile, result: FileResult, partial: bool) -> None:
    """Replace the stored rows of the periods the file covers with its rows, part by part.

    A file covers periods (year, half-year, department): what it replaces. Within them, a part (a
    commune's half-year) whose sales are the same as stored (same rows, grouped into the same
    mutations) keeps its stored rows: a release that changes a thousand communes rewrites their
    rows, not the year's 3.5 million, so the store grows by what moved, and the history in git and
    the statistics of the untouched years stay as they were. Two files of one batch must not cover
    the same period and department: rows would double. A file staged in part (`partial`) compares
    only the parts it may change: the others would compare equal. A raw file's parts' digests are
    then kept for the next release (part_digests.sql)."""
    query.run(con, "file_periods")
    query.run(con, "covered_periods")
    query.run(con, "outside_rows")
    clash = query.first(con, "period_clash")
    if clash:
        year, half, dep, other = clash
        raise InputError(
            cf.path,
            f"holds the same sales period as {other} ({year} S{half}, département {dep}): "
            "keep one of them in the source (a release's files, in one format)",
        )
    for code, n in query.rows(con, "file_unknown_communes"):
        result.unknown[code] = n
    _replace_parts(con, cf, result, partial)
    query.run(con, "part_digests_drop")
    if cf.fmt == "raw":
        query.run(con, "open_parts")
        query.run(con, "part_digests_write")


def _replace_parts(
    con: duckdb.DuckDBPyConnection, cf: CheckedFile, result: FileResult, partial: bool
) -> None:
    """The file's rows of the parts it changes replace the stored ones (see _store_file)."""
    query.run(con, "replaced_rows_partial" if partial else "replaced_rows")
    if not partial and not query.one(con, "replaced_count")[0]:  # the periods' first import: all new
        result.added, result.removed = cf.rows, 0
        query.run(con, "store_rows")
        return
    query.run(con, "period_rows")
    query.run(con, "period_mutations")
    query.run(con, "compared_parts")
    query.run(con, "changed_parts")
    compared = query.one(con, "covered_part_count" if partial else "compared_part_count")[0]
    result.kept = compared - _close_under_ties(con, "changed_part_list", ("part_links",), "changed_part_add")
    query.run(con, "changed_period_rows")
    result.added, result.removed = query.one(con, "row_changes")
    query.run(con, "leaving_rows")
    query.run(con, "cut_parts_add")  # a sale across departments the file does not all hold
    (result.replaced,) = query.one(con, "delete_replaced")
    query.run(con, "store_changed_rows" if result.kept else "store_rows")


def _close_under_ties(con: duckdb.DuckDBPyConnection, listed: str, links: tuple[str, ...], add: str) -> int:
    """Add to a set of parts (`listed` lists it, `add` adds one) every part a mutation ties to one of
    them (each query of `links` gives mutations as lists of parts), until none is left (such
    mutations are rare: a sale across communes); the set's size."""
    parts = {tuple(p) for p in query.rows(con, listed)}
    ties = [{tuple(p) for p in tied} for name in links for (tied,) in query.rows(con, name)]
    grew = True
    while grew:
        grew = False
        for tied in ties:
            if tied & parts and not tied <= parts:
                for p in sorted(tied - parts):
                    query.run(con, add, list(p))
                parts |= tied
                grew = True
    return len(parts)


def _undo(
    con: duckdb.DuckDBPyConnection,
    paths: Paths,
    batch_id: int,
    todo: list[tuple[Path, FileResult]],
    started: datetime,
    err: ImmoStatsError,
    in_copy: bool,
) -> None:
    """Roll the batch back before its working tables go (a statement in an aborted transaction
    fails, and its error would hide the batch's), then, in place, record why in update_log and
    build/imports.json: a copy's caller removes the copy and records the failure in the store. The
    record is tried even when the rollback fails (no transaction left: a Ctrl-C between two
    statements)."""
    with suppress(duckdb.Error):
        con.rollback()
    if in_copy:
        return
    with suppress(duckdb.Error, ImmoStatsError):  # a full disk may refuse even these: the error line says why
        _log_failure(con, batch_id, todo, started, err)
        note_imports(con, paths)


def _record_batch_failure(
    paths: Paths,
    settings: Settings,
    todo: list[tuple[Path, FileResult]],
    started: datetime,
    err: ImmoStatsError,
) -> None:
    """Record a batch's failure in the store itself, when the batch ran in a copy of it."""
    _record(paths, settings, lambda con, batch_id: _log_failure(con, batch_id, todo, started, err))


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
        _log_failed_row(con, batch_id, r.name, r.sha256, r.fmt or None, started, message)


def _log_failed_row(
    con: duckdb.DuckDBPyConnection,
    batch_id: int,
    source: str,
    sha256: str | None,
    fmt: str | None,
    started: datetime,
    error: object,
) -> None:
    query.run(con, "log_failure", [batch_id, source, sha256, fmt, started, _now(), str(error)])


_CSV_LINE = re.compile(r"CSV Error on Line: (\d+)")
_COLUMNS = re.compile(r"Expected Number of Columns: (\d+) Found: (\d+)")


def _duckdb_input_error(path: Path, e: duckdb.Error) -> InputError:
    """Turn DuckDB's multi-line CSV error into one line: file, line, what is wrong."""
    text = str(e)
    line = int(m.group(1)) if (m := _CSV_LINE.search(text)) else None
    if "Invalid unicode" in text:  # DuckDB checks every line's UTF-8 (sources.check does not)
        return InputError(path, "not UTF-8 text; DVF files are UTF-8 (re-saved as Latin-1?)", line)
    if m := _COLUMNS.search(text):
        if m.group(1) == "1":  # a raw file is read as whole lines (file_text.sql), split on U+0001
            return InputError(path, "a control character (U+0001) where DVF has none", line)
        return InputError(path, _fields_problem(int(m.group(1)), int(m.group(2))), line)
    first = text.strip().splitlines()[0] if text.strip() else type(e).__name__
    return InputError(path, f"cannot be read: {first}", line)


def imports_since(paths: Paths, batch: int | None) -> dict[str, int | None]:
    """The last successful batch, and the DVF rows added and removed by the imports after `batch`
    (None: since the beginning): what a new version brings. None where an old log cannot say."""
    con = query.connect(str(paths.db), read_only=True)
    try:
        last, added, removed, unknown = query.one(con, "imports_since", [batch or 0])
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
    sources = query.rows(con, "store_sources")
    present = query.rows(con, "store_departements")
    return {
        "schema": SCHEMA_VERSION,
        "departements": [d for (d,) in present],  # the default scope of a local build
        "referential": reference.digests(),
        "rows": sum(s[3] for s in sources),
        "sources": [
            {"file": f, "sha256": h, "format": fmt, "rows": n, "first_sale": a, "last_sale": b}
            for f, h, fmt, n, a, b in sources
        ],
    }


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)
