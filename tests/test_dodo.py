"""`doit` itself: builds from the shipped sample, stays quiet when nothing changed, fails in one line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import RAW_2021, query, run_doit, tables

from rules.paths import Paths

AIN = "departements=01"  # the sample's department: a small site keeps these tests fast


@pytest.mark.france
def test_fresh_build_then_a_second_run_does_nothing_and_prints_nothing(paths: Paths) -> None:
    first = run_doit(paths)  # the README's build: all of France, from the shipped sample
    assert ".  load" in first.stdout and ".  stats" in first.stdout
    assert query(paths.db, "select count(*) from dvf_rows")[0][0] == 172 + 41
    second = run_doit(paths)
    assert (second.stdout, second.stderr) == ("", "")


def test_bad_source_is_one_line_and_the_store_is_untouched(tmp_path: Path, paths: Paths) -> None:
    run_doit(paths, AIN)
    before = tables(paths.db)
    site = {p: p.read_bytes() for p in paths.site.rglob("*") if p.is_file()}
    bad = tmp_path / "valeursfoncieres-2021.txt"
    bad.write_bytes(RAW_2021.read_bytes().replace(b"204332,00", b"abc", 1))
    proc = run_doit(paths, AIN, f"source={bad}", check=False)
    assert proc.returncode != 0
    errors = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert errors == [f"error: {bad}:5: Valeur fonciere 'abc' is not a number"]
    assert "Traceback" not in proc.stdout + proc.stderr
    assert tables(paths.db) == before
    assert {p: p.read_bytes() for p in paths.site.rglob("*") if p.is_file()} == site
    # Back to the good source, the next run works normally.
    run_doit(paths, AIN)
    assert run_doit(paths, AIN).stdout == ""


def test_missing_source_is_one_line(tmp_path: Path, paths: Paths) -> None:
    proc = run_doit(paths, AIN, f"source={tmp_path / 'nope'}", check=False)
    assert proc.returncode != 0
    assert proc.stderr.strip() == f"error: source={tmp_path / 'nope'}: no such file or folder"


def test_a_bad_setting_is_one_line_before_any_task_runs(paths: Paths) -> None:
    proc = run_doit(paths, "departements=01,XX", check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip() == "error: departements=01,XX: unknown department code XX"
    assert proc.stdout == ""


def _files(site: Path) -> dict[str, bytes]:
    return {p.relative_to(site).as_posix(): p.read_bytes() for p in sorted(site.rglob("*")) if p.is_file()}


def test_an_emptied_site_is_rebuilt_complete(paths: Paths) -> None:
    """A runner whose build/ comes from a cache and whose site/ does not: nothing may go missing."""
    run_doit(paths, AIN)
    before = _files(paths.site)
    assert any(p.startswith("assets/app.") and p.endswith(".css") for p in before)
    shutil.rmtree(paths.site / "assets")
    assert run_doit(paths, AIN).stdout == ".  assets\n"
    assert _files(paths.site) == before
    shutil.rmtree(paths.site)
    run_doit(paths, AIN)
    assert _files(paths.site) == before
    assert run_doit(paths, AIN).stdout == ""
