"""The history store in git: content-addressed Parquet partitions that rebuild the DuckDB store."""

from __future__ import annotations

import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import duckdb
import orjson
import pytest
from conftest import PARIS_ROWS, RAW_2020, RAW_2021, raw_file, tables

from rules import history, query, store
from rules.gitrepo import GitRepo, Snapshot
from rules.paths import Paths
from rules.publishing import Publishing
from rules.settings import Settings

SETTINGS = Settings()


def files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def imported(paths: Paths, *sources: Path) -> dict:
    store.import_files(paths, list(sources), SETTINGS, log=lambda _: None)
    return history.export(paths, SETTINGS, log=lambda _: None)


def test_a_partition_is_rewritten_only_when_its_rows_change(paths: Paths, tmp_path: Path) -> None:
    manifest = imported(paths, RAW_2020, RAW_2021)
    assert sorted(manifest["partitions"]) == ["2020-1-01", "2021-1-01"]
    assert manifest["rows"] == 172 + 41 == sum(p["rows"] for p in manifest["partitions"].values())
    before = files(paths.history)
    stamps = {p: p.stat().st_mtime_ns for p in (paths.history / "rows").iterdir()}
    assert history.export(paths, SETTINGS, log=lambda _: None) == manifest  # nothing changed
    assert {p: p.stat().st_mtime_ns for p in (paths.history / "rows").iterdir()} == stamps

    changed = tmp_path / "valeursfoncieres-2021.txt"
    changed.write_text(RAW_2021.read_text("utf-8").replace("204332,00", "214332,00"), encoding="utf-8")
    after = files(paths.history) if imported(paths, changed) else {}
    assert after["rows/2020-1-01.parquet"] == before["rows/2020-1-01.parquet"]  # untouched period
    assert after["rows/2021-1-01.parquet"] != before["rows/2021-1-01.parquet"]


def test_the_same_rows_give_the_same_bytes(tmp_path: Path) -> None:
    one, two = Paths.of(tmp_path / "a", tmp_path / "a-site"), Paths.of(tmp_path / "b", tmp_path / "b-site")
    imported(one, RAW_2021, RAW_2020)  # both in batch 1
    imported(two, RAW_2020)  # batch 1
    imported(two, RAW_2021)  # batch 2: its rows say so
    a, b = files(one.history), files(two.history)
    assert a["rows/2020-1-01.parquet"] == b["rows/2020-1-01.parquet"]  # same rows, other folder and run
    assert a["rows/2021-1-01.parquet"] != b["rows/2021-1-01.parquet"]


def _several_departments(tmp_path: Path) -> Path:
    """2021's first half in Paris, the Ain and nowhere (no department: hostile or damaged data),
    the departments' rows interleaved in the file."""
    ain, ain2 = RAW_2021.read_text("utf-8").splitlines()[1:3]
    nowhere = PARIS_ROWS[0].replace("|75|101|", "||101|")
    assert nowhere != PARIS_ROWS[0]
    lines = [PARIS_ROWS[0], nowhere, ain, *PARIS_ROWS[1:3], ain2, nowhere, *PARIS_ROWS[3:]]
    return raw_file(tmp_path / "paris-2021.txt", lines)


def test_partitions_hold_their_rows_whatever_the_threads_writing_them(paths: Paths, tmp_path: Path) -> None:
    """Partitions of one half-year are staged together and written by one connection per thread:
    each file holds exactly its period's rows in their total order, and the bytes do not depend
    on how many wrote them."""
    manifest = imported(paths, RAW_2020, _several_departments(tmp_path))
    assert len([n for n in manifest["partitions"] if n.startswith("2021-1-")]) == 3  # 01, 75, none
    written = {}
    for threads in (1, 2, 3):
        shutil.rmtree(paths.history)
        history.export(paths, Settings(threads=threads), log=lambda _: None)
        written[threads] = files(paths.history)
    assert written[1] == written[2] == written[3]
    nowhere = next(n for n, p in manifest["partitions"].items() if p["departement"] is None)
    (paths.history / "rows" / f"{nowhere}.parquet").unlink()  # only the partition with no department
    stamps = {p: p.stat().st_mtime_ns for p in (paths.history / "rows").iterdir()}
    history.export(paths, SETTINGS, log=lambda _: None)
    assert files(paths.history) == written[1]
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps  # the others were not rewritten
    con = duckdb.connect(str(paths.db), read_only=True)
    try:
        for name, part in manifest["partitions"].items():
            stored = con.execute(
                "select * from dvf_rows where annee = ? and semestre = ? "
                "and code_departement is not distinct from ? order by source_sha256, source_line",
                [part["annee"], part["semestre"], part["departement"]],
            ).fetchall()
            exported = con.execute(
                "select * from read_parquet(?)", [str(paths.history / "rows" / f"{name}.parquet")]
            ).fetchall()
            assert exported == stored and len(stored) == part["rows"], name
    finally:
        con.close()


def test_a_republished_file_rewrites_only_the_partitions_whose_sales_changed(
    paths: Paths, tmp_path: Path
) -> None:
    """The file of Paris, the Ain and nowhere again, with the Ain's house repriced: the import keeps
    the two other periods' rows, so their partitions keep their bytes and are not written."""
    source = _several_departments(tmp_path)
    manifest = imported(paths, source)
    before = files(paths.history)
    stamps = {p: p.stat().st_mtime_ns for p in (paths.history / "rows").iterdir()}
    republished = tmp_path / "v2" / source.name
    republished.parent.mkdir()
    republished.write_text(source.read_text("utf-8").replace("|185000,00|", "|186000,00|"), "utf-8")
    after = imported(paths, republished)
    ain = "rows/2021-1-01.parquet"
    assert sorted(after["partitions"]) == sorted(manifest["partitions"])
    changed = sorted(n for n, b in files(paths.history).items() if before.get(n) != b)
    assert changed == ["manifest.json", ain, "update_log.parquet"]
    assert [p.name for p, t in stamps.items() if p.stat().st_mtime_ns != t] == ["2021-1-01.parquet"]


def _staged(paths: Paths, tmp_path: Path) -> tuple[duckdb.DuckDBPyConnection, list]:
    """A connection with 2021's first half staged, and 30 jobs that each write its Ain partition."""
    imported(paths, RAW_2021)
    con = store.connect(paths, Settings(threads=2))
    query.run(con, "history_scratch")
    query.set_variables(con, {"annee": 2021, "semestre": 1, "departements": ["01"], "with_unknown": False})
    query.run(con, "history_stage")
    ((dep, first, last),) = query.rows(con, "history_ranges")
    (tmp_path / "out").mkdir()
    ain = {"departement": dep, "first_row": first, "last_row": last}
    return con, [(tmp_path / "out" / f"{i}.parquet", ain) for i in range(30)]


def test_a_ctrl_c_while_partitions_are_written_stops_every_writer(
    paths: Paths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The interrupt goes on only once no writer is at work: none is in the middle of a partition
    when it arrives at the caller, and none writes one after."""
    con, jobs = _staged(paths, tmp_path)
    real_copy, copies, at_work = history._copy, [], []

    def copy(cursor: duckdb.DuckDBPyConnection, text: str, target: Path) -> None:
        at_work.append(target)
        try:
            copies.append(target)
            if len(copies) == 3:  # a Ctrl-C reaches the main thread while the writers work
                signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGINT)
            time.sleep(0.05)
            real_copy(cursor, text, target)
        finally:
            at_work.remove(target)

    monkeypatch.setattr(history, "_copy", copy)
    try:
        with pytest.raises(KeyboardInterrupt):
            history._write_all(con, jobs)
        busy = list(at_work)
    finally:
        con.close()
    assert copies and not busy  # every writer had stopped when the interrupt went on
    stopped, written = len(copies), sorted((tmp_path / "out").iterdir())
    time.sleep(0.3)  # a writer still at work would start or finish a partition meanwhile
    assert (len(copies), sorted((tmp_path / "out").iterdir())) == (stopped, written)
    assert len(copies) < len(jobs)  # they stopped: not all 30 were written
    assert not [p for p in (tmp_path / "out").iterdir() if not p.name.endswith(".parquet")]  # no .tmp


def test_a_writer_that_fails_stops_the_others_and_its_error_is_raised(paths: Paths, tmp_path: Path) -> None:
    con, jobs = _staged(paths, tmp_path)
    jobs.insert(1, (tmp_path / "gone" / "x.parquet", jobs[0][1]))  # a folder that does not exist
    try:
        with pytest.raises(duckdb.IOException):
            history._write_all(con, jobs)
    finally:
        con.close()
    assert len(list((tmp_path / "out").iterdir())) < len(jobs) - 1


def _restorable(db: Path) -> dict[str, list[tuple]]:
    """The store's tables but the raw parts' digests: those are not in git (they hold for the text
    of the files the store imported, not for its rows), so a restored store has none and its next
    release of a year is staged whole (store._digests_known)."""
    return {name: rows for name, rows in tables(db).items() if name != "part_digests"}


def test_restore_gives_back_the_same_store(paths: Paths, tmp_path: Path) -> None:
    imported(paths, RAW_2020, RAW_2021)
    fresh = Paths.of(tmp_path / "fresh", tmp_path / "fresh-site")
    shutil.copytree(paths.history, fresh.history)
    history.restore(fresh, SETTINGS)
    assert _restorable(fresh.db) == _restorable(paths.db)
    assert tables(fresh.db)["part_digests"] == []
    log = "select * from update_log order by all"
    with (
        duckdb.connect(str(paths.db), read_only=True) as a,
        duckdb.connect(str(fresh.db), read_only=True) as b,
    ):
        assert a.execute(log).fetchall() == b.execute(log).fetchall()


def test_a_hostile_department_code_never_becomes_a_path() -> None:
    assert history.partition_name(2021, 1, "2A") == "2021-1-2A"
    assert history.partition_name(2021, 1, None) != history.partition_name(2021, 1, "None")
    for hostile in ("../../etc", "/abs", "01/../..", "", None, "x" * 500):
        name = history.partition_name(2021, 1, hostile)
        assert "/" not in name and ".." not in name and len(name) < 30


def _commit_history(repo: Path, paths: Paths, branch: str = "dvf-history") -> None:
    g = GitRepo(repo)
    [(tree, _)] = g.trees([Snapshot(tmp_index := paths.build / "h.index", paths.history)])
    tmp_index.unlink()
    g.run("update-ref", f"refs/heads/{branch}", g.commit(tree, g.rev(f"refs/heads/{branch}"), "history"))


def test_the_store_comes_back_from_git_when_missing_or_older(paths: Paths, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    pub = Publishing(repo=repo)
    assert not history.ensure_store(paths, SETTINGS, pub, log=lambda _: None)  # no history yet
    imported(paths, RAW_2020)
    old = tmp_path / "old-build"
    shutil.copytree(paths.build, old)  # a cache saved before the next import was published
    imported(paths, RAW_2021)
    _commit_history(repo, paths)
    lines: list[str] = []
    assert not history.ensure_store(paths, SETTINGS, pub, log=lines.append)  # up to date: kept
    expected = _restorable(paths.db)

    lost = Paths.of(tmp_path / "lost", tmp_path / "lost-site")  # the cache was evicted
    assert history.ensure_store(lost, SETTINGS, pub, log=lines.append)
    assert _restorable(lost.db) == expected
    assert lines[-1].startswith(
        "history: restored dvf.duckdb from git (dvf-history): 213 rows in 2 partitions"
    )

    stale = Paths.of(old, tmp_path / "stale-site")  # the old cache came back
    assert history.ensure_store(stale, SETTINGS, pub, log=lines.append)
    assert "older" not in lines[-2] and "restoring it" in lines[-2]
    assert _restorable(stale.db) == expected
    manifest = orjson.loads((stale.history / "manifest.json").read_bytes())
    assert manifest["rows"] == 213
