"""`doit` itself: builds from the shipped sample, stays quiet when nothing changed, fails in one line."""

from __future__ import annotations

from pathlib import Path

from conftest import RAW_2021, query, run_doit, tables

from rules.paths import Paths


def test_fresh_build_then_a_second_run_does_nothing_and_prints_nothing(paths: Paths) -> None:
    first = run_doit(paths)
    assert ".  load" in first.stdout
    assert query(paths.db, "select count(*) from dvf_rows")[0][0] == 172 + 41
    second = run_doit(paths)
    assert (second.stdout, second.stderr) == ("", "")


def test_bad_source_is_one_line_and_the_store_is_untouched(tmp_path: Path, paths: Paths) -> None:
    run_doit(paths)
    before = tables(paths.db)
    bad = tmp_path / "valeursfoncieres-2021.txt"
    bad.write_bytes(RAW_2021.read_bytes().replace(b"204332,00", b"abc", 1))
    proc = run_doit(paths, f"source={bad}", check=False)
    assert proc.returncode != 0
    errors = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert errors == [f"error: {bad}:5: Valeur fonciere 'abc' is not a number"]
    assert "Traceback" not in proc.stdout + proc.stderr
    assert tables(paths.db) == before
    # Once the bad file is gone, the next run works normally.
    run_doit(paths)
    assert run_doit(paths).stdout == ""


def test_missing_source_is_one_line(tmp_path: Path, paths: Paths) -> None:
    proc = run_doit(paths, f"source={tmp_path / 'nope'}", check=False)
    assert proc.returncode != 0
    assert proc.stderr.strip() == f"error: source={tmp_path / 'nope'}: no such file or folder"
