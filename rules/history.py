"""The history store in git: DuckDB's rows as content-addressed Parquet partitions.

`build/history/` mirrors the store: one Parquet file per stored period (year, half-year,
department), the import log, and `manifest.json`. A partition is rewritten only when its rows
change (its signature: row count, batches and source files), and its bytes depend on its rows
alone (a total order, one writer), so git stores each state of a period once. `doit publish`
commits the folder to the history branch and pushes it with the site. A runner whose cache is
gone (or older than what was published) rebuilds `build/dvf.duckdb` from that branch before
importing, so years that DVF no longer publishes stay in the store, and in the figures.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import queue
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from rules import query
from rules.files import canonical_json, sha256_file, write_atomic, write_if_changed
from rules.gitrepo import GitError, GitRepo
from rules.lazy import duckdb
from rules.paths import HISTORY_MANIFEST, HISTORY_ROWS, HISTORY_UPDATE_LOG, Paths, history_partition, wal
from rules.publishing import Publishing
from rules.query import set_variables, sql
from rules.settings import Settings
from rules.store import connect, create_tables, load_referential

SCHEMA = 1
WRITER = "history writer"  # the threads that write partitions
Log = Callable[[str], None]


def partition_name(annee: int, semestre: int, departement: str | None) -> str:
    """`2021-1-01`; a department code that is not plain letters and digits (hostile data) is
    named by its hash, so no value from a DVF file ever becomes part of a path."""
    dep = departement if departement and re.fullmatch(r"[0-9A-Za-z]{1,3}", departement) else None
    if dep is None:  # no department is not the text "None"
        text = b"\0no department" if departement is None else departement.encode()
        dep = "x" + hashlib.sha256(text).hexdigest()[:12]
    return f"{annee}-{semestre}-{dep}"


def read_manifest(folder: Path) -> dict[str, Any]:
    try:
        doc = orjson.loads((folder / HISTORY_MANIFEST).read_bytes())
    except (FileNotFoundError, orjson.JSONDecodeError):
        return {}
    return doc if isinstance(doc, dict) and doc.get("schema") == SCHEMA else {}


def export(paths: Paths, settings: Settings, log: Log = print) -> dict[str, Any]:
    """Bring build/history/ in line with the store, writing only the partitions that changed."""
    folder = paths.history
    (folder / HISTORY_ROWS).mkdir(parents=True, exist_ok=True)
    before = read_manifest(folder).get("partitions", {})
    started = time.monotonic()
    con = connect(paths, settings)
    try:
        stored = query.rows(con, "history_partitions")
        todo: set[tuple] = set()
        for annee, semestre, dep, _, signature in stored:
            old = before.get(partition_name(annee, semestre, dep))
            file = folder / history_partition(partition_name(annee, semestre, dep))
            if not (old and old["signature"] == signature and _intact(file, old)):
                todo.add((annee, semestre, dep))
        _write_partitions(con, folder, todo)
        partitions = {}
        for annee, semestre, dep, rows, signature in stored:
            name = partition_name(annee, semestre, dep)
            file, old = folder / history_partition(name), before.get(name)
            partitions[name] = {
                "annee": annee,
                "semestre": semestre,
                "departement": dep,
                "rows": rows,
                "signature": signature,
                "bytes": file.stat().st_size,
                "sha256": sha256_file(file) if (annee, semestre, dep) in todo or not old else old["sha256"],
            }
        _copy(con, sql("history_update_log"), folder / HISTORY_UPDATE_LOG)
        last = _last_import(con)
    finally:
        con.close()
    for stale in (folder / HISTORY_ROWS).iterdir():
        if stale.name.removesuffix(".parquet") not in partitions:
            stale.unlink()
    manifest = {
        "schema": SCHEMA,
        "last_import": last,
        "rows": sum(p["rows"] for p in partitions.values()),
        "partitions": partitions,
    }
    write_if_changed(folder / HISTORY_MANIFEST, canonical_json(manifest))
    if todo:
        log(
            f"history: {len(todo):,} of {len(partitions):,} partitions written to {folder} "
            f"({time.monotonic() - started:.1f} s)"
        )
    return manifest


def _write_partitions(con: duckdb.DuckDBPyConnection, folder: Path, todo: set[tuple]) -> None:
    """Write the partitions of `todo`, one half-year at a time: its changed rows are staged once,
    sorted (history_stage), then its partitions are written on every core (_write_all)."""
    halves: dict[tuple[int, int], list[str | None]] = {}
    for annee, semestre, dep in todo:
        halves.setdefault((annee, semestre), []).append(dep)
    query.run(con, "history_scratch")
    try:
        for (annee, semestre), deps in sorted(halves.items()):
            known = [d for d in deps if d is not None]
            set_variables(
                con,
                {"annee": annee, "semestre": semestre, "departements": known, "with_unknown": None in deps},
            )
            query.run(con, "history_stage")
            ranges = query.rows(con, "history_ranges")
            if sorted(map(repr, (dep for dep, _, _ in ranges))) != sorted(map(repr, deps)):
                raise AssertionError(f"{annee}-{semestre}: staged {ranges}, expected {deps}")  # a bug
            jobs = [
                (
                    folder / history_partition(partition_name(annee, semestre, dep)),
                    {"departement": dep, "first_row": first, "last_row": last},
                )
                for dep, first, last in ranges
            ]
            _write_all(con, jobs)
    except BaseException:
        with contextlib.suppress(duckdb.Error):  # the error on its way out is the one to report
            query.run(con, "history_unstage")
        raise
    query.run(con, "history_unstage")


def _write_all(con: duckdb.DuckDBPyConnection, jobs: list[tuple[Path, dict[str, Any]]]) -> None:
    """Write each (file, variables) partition on its own connection, one per DuckDB thread.

    A partition is one small query, which DuckDB writes on one core: two at a time is twice as
    fast (France scale, 2 cores). Each file is still written by one query from rows in a total
    order, so its bytes do not depend on which connection wrote it. The first error stops the
    others and is raised here; so is a Ctrl-C, once the running queries are interrupted and
    every writer has stopped."""
    pending: queue.SimpleQueue[tuple[Path, dict[str, Any]]] = queue.SimpleQueue()
    for job in sorted(jobs, key=lambda j: -(j[1]["last_row"] - j[1]["first_row"])):  # largest first
        pending.put(job)
    cursors = [con.cursor() for _ in range(max(1, min(query.one(con, "duckdb_threads")[0], len(jobs))))]
    failed: list[BaseException] = []
    writers = [_Writer(f"{WRITER} {i}", c, pending, failed) for i, c in enumerate(cursors)]
    try:
        for w in writers:
            w.start()
        for w in writers:
            w.done.wait()
    except BaseException as e:  # a Ctrl-C, or a writer that could not start: stop the others first
        failed.append(e)
        _stop(writers)
        raise
    finally:
        for c in cursors:
            c.close()
    if failed:
        raise failed[0]


def _stop(writers: list[_Writer]) -> None:
    """Interrupt the writers' queries until every writer that started has stopped. A query begun
    just after an interrupt runs on (DuckDB interrupts only what runs), hence the repeats; a
    second Ctrl-C meanwhile does not cut the wait short."""
    for w in writers:
        while w.ident is not None and not w.done.is_set():
            try:
                w.cursor.interrupt()
                w.done.wait(0.05)
            except KeyboardInterrupt:
                continue


class _Writer(threading.Thread):
    """Writes partitions from `pending` until none is left or one writer failed.

    The main thread waits on `done`, not with join(): a join interrupted by a Ctrl-C marks a
    running thread as stopped in Python 3.11 (bpo-45274), and a second join would then return
    while the thread still writes."""

    def __init__(
        self,
        name: str,
        cursor: duckdb.DuckDBPyConnection,
        pending: queue.SimpleQueue[tuple[Path, dict[str, Any]]],
        failed: list[BaseException],
    ) -> None:
        super().__init__(name=name, daemon=True)
        self.cursor, self.pending, self.failed = cursor, pending, failed
        self.done = threading.Event()

    def run(self) -> None:
        try:
            while True:
                try:
                    target, variables = self.pending.get_nowait()
                except queue.Empty:
                    return
                if self.failed:  # another writer failed, or the run was interrupted
                    return
                set_variables(self.cursor, variables)
                query.run(self.cursor, "history_partition")
                _copy(self.cursor, sql("history_partition_rows"), target)
        except BaseException as e:  # handed to the main thread, which raises it
            self.failed.append(e)
        finally:
            self.done.set()


def _last_import(con: duckdb.DuckDBPyConnection) -> str | None:
    return query.one(con, "last_import")[0]


def _intact(file: Path, entry: dict[str, Any]) -> bool:
    try:
        return file.stat().st_size == entry["bytes"]
    except FileNotFoundError:
        return False


def _copy(con: duckdb.DuckDBPyConnection, text: str, target: Path) -> None:
    """Write a query's rows to Parquet through a temporary file: a kill never leaves half a partition."""
    tmp = target.with_name(f".{target.name}.tmp")
    try:
        con.sql(text.strip().rstrip(";")).write_parquet(str(tmp), compression="zstd")
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def published_tip(pub: Publishing) -> tuple[GitRepo, str, str, str] | None:
    """The history commit to restore from: the local branch or the remote's (what a fresh clone
    has), whichever holds the later import, with where it is and that import's end; None when
    there is no history in git."""
    try:
        repo = GitRepo(pub.repo)
    except GitError:
        return None
    best: tuple[str, str, str] | None = None
    for ref in (pub.history_ref, pub.tracking(pub.history_branch)):
        tip = repo.rev(ref)
        if tip is None:
            continue
        last = (repo.read_json(tip, HISTORY_MANIFEST) or {}).get("last_import") or ""
        if best is None or last > best[0]:
            best = (last, tip, ref.removeprefix("refs/heads/").removeprefix("refs/remotes/"))
    return (repo, best[1], best[2], best[0]) if best else None


def ensure_store(paths: Paths, settings: Settings, pub: Publishing, log: Log = print) -> bool:
    """Rebuild build/dvf.duckdb from git when it is missing, or older than the published history.

    Returns True when it restored."""
    found = published_tip(pub)
    if found is None:
        return False
    repo, tip, where, theirs = found
    if paths.db.exists():
        con = connect(paths, settings, read_only=True)
        try:
            ours = _last_import(con) or ""
        except duckdb.CatalogException:
            ours = ""
        finally:
            con.close()
        if ours >= theirs:
            return False
        log(
            f"history: the store in {paths.build} ends with an import of {ours or 'nothing'}, "
            f"the history in git with one of {theirs}: restoring it"
        )
    started = time.monotonic()
    manifest = materialize(repo, tip, paths.history)
    restore(paths, settings)
    log(
        f"history: restored {paths.db.name} from git ({where}): {manifest['rows']:,} rows in "
        f"{len(manifest['partitions'])} partitions, {time.monotonic() - started:.1f} s"
    )
    return True


def materialize(repo: GitRepo, rev: str, folder: Path) -> dict[str, Any]:
    """Make build/history/ equal the history tree at `rev`, reading only files that differ."""
    wanted = repo.ls_tree(rev)
    have = (
        {p.relative_to(folder).as_posix(): p for p in folder.rglob("*") if p.is_file()}
        if folder.exists()
        else {}
    )
    todo = [path for path, blob in wanted.items() if path not in have or _git_hash(have[path]) != blob]
    for path, data in zip(todo, repo.cat_blobs([wanted[p] for p in todo]), strict=True):
        write_atomic(folder / path, data)
    for path, file in have.items():
        if path not in wanted:
            file.unlink()
    manifest = read_manifest(folder)
    if not manifest:
        raise GitError(f"{rev}: the history branch has no readable {HISTORY_MANIFEST}")
    return manifest


def _git_hash(file: Path) -> str:
    data = file.read_bytes()
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def restore(paths: Paths, settings: Settings) -> None:
    """Build the store from build/history/ into a new file, then swap it in (a kill leaves the
    old store, or none, never half a store)."""
    manifest = read_manifest(paths.history)
    files = [str(paths.history / history_partition(name)) for name in sorted(manifest["partitions"])]
    building = paths.db.with_name(paths.db.name + ".restoring")
    building.unlink(missing_ok=True)
    con = query.connect(str(building), config={"memory_limit": settings.memory_limit})
    try:
        create_tables(con)
        if files:
            query.run(con, "restore_rows", [files])
            query.run(con, "import_periods_fill")  # git does not keep them: the rows tell most
        query.run(con, "restore_update_log", [str(paths.history_update_log)])
        load_referential(con)
        con.checkpoint()
    finally:
        con.close()
    for stale in (paths.db, wal(paths.db)):
        stale.unlink(missing_ok=True)
    os.replace(building, paths.db)
