"""The history store in git: content-addressed Parquet partitions that rebuild the DuckDB store."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import duckdb
import orjson
from conftest import RAW_2020, RAW_2021, tables

from rules import history, store
from rules.gitrepo import GitRepo
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


def test_restore_gives_back_the_same_store(paths: Paths, tmp_path: Path) -> None:
    imported(paths, RAW_2020, RAW_2021)
    fresh = Paths.of(tmp_path / "fresh", tmp_path / "fresh-site")
    shutil.copytree(paths.history, fresh.history)
    history.restore(fresh, SETTINGS)
    assert tables(fresh.db) == tables(paths.db)
    log = "select * from update_log order by all"
    with (
        duckdb.connect(str(paths.db), read_only=True) as a,
        duckdb.connect(str(fresh.db), read_only=True) as b,
    ):
        assert a.execute(log).fetchall() == b.execute(log).fetchall()


def test_a_hostile_department_code_never_becomes_a_path() -> None:
    assert history.partition_name(2021, 1, "2A") == "2021-1-2A"
    for hostile in ("../../etc", "/abs", "01/../..", "", None, "x" * 500):
        name = history.partition_name(2021, 1, hostile)
        assert "/" not in name and ".." not in name and len(name) < 30


def _commit_history(repo: Path, paths: Paths, branch: str = "dvf-history") -> None:
    g = GitRepo(repo)
    tree, _ = g.tree_from_dir(tmp_index := paths.build / "h.index", paths.history)
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
    expected = tables(paths.db)

    lost = Paths.of(tmp_path / "lost", tmp_path / "lost-site")  # the cache was evicted
    assert history.ensure_store(lost, SETTINGS, pub, log=lines.append)
    assert tables(lost.db) == expected
    assert lines[-1].startswith(
        "history: restored dvf.duckdb from git (dvf-history): 213 rows in 2 partitions"
    )

    stale = Paths.of(old, tmp_path / "stale-site")  # the old cache came back
    assert history.ensure_store(stale, SETTINGS, pub, log=lines.append)
    assert "older" not in lines[-2] and "restoring it" in lines[-2]
    assert tables(stale.db) == expected
    manifest = orjson.loads((stale.history / "manifest.json").read_bytes())
    assert manifest["rows"] == 213
