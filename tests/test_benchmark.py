"""The benchmark at a small scale: a smoke test of correctness, never of speed."""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb
import pytest

sys.path.insert(0, str(Path(__file__).parent / "benchmark"))

import generate  # noqa: E402
import run  # noqa: E402


@pytest.mark.parametrize("seed", [7, 8, 9, 10, 11])  # the same seed, the same bytes: five times over
def test_generator_is_deterministic_and_has_dvf_structure(tmp_path: Path, seed: int) -> None:
    a = generate.generate(tmp_path / "a", scale="05", years=1, seed=seed)
    b = generate.generate(tmp_path / "b", scale="05", years=1, seed=seed)
    name = "ValeursFoncieres-2025.txt"
    assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert a == b and a[name] > 100
    con = duckdb.connect()
    sql = "select * from read_csv(?, delim='|', header=true, all_varchar=true, quote='')"
    rows = con.execute(sql, [str(tmp_path / "a" / name)]).fetchall()
    natures = {r[9] for r in rows}
    assert {"Vente", "Vente en l'état futur d'achèvement", "Echange"} <= natures
    types = {r[35] for r in rows}
    assert {"1", "2", "3", "4", None} <= types  # houses, flats, dependencies, shops, land
    assert len(rows) > len({tuple(r) for r in rows}), "exact duplicate rows exist"
    assert {r[18] for r in rows} == {"05"}


def test_benchmark_runs_end_to_end_at_a_small_scale(tmp_path: Path) -> None:
    results = run.run(tmp_path, "05", years=2)
    assert results["rows"] > 1000 and results["pages"] > 150
    # The import's floor: DuckDB reading the same files and nothing else, timed on its own.
    assert results["ingest_floor_s"] > 0 and results["ingest_floor_rows_per_s"] > 0
    release = results["release"]
    assert release["communes"] > 0 and release["pages_rerendered"] > 0
    assert release["unexpected_pages"] == [], "only the touched communes and their aggregates re-render"
    # The release's statistics recompute its communes and their parents only, and its step times
    # are read from the lines the steps print.
    assert 0 < release["places_recomputed"] <= release["pages_expected_at_most"]
    assert release["import_s"] > 0 and release["stats_s"] > 0 and release["rest_s"] > 0
    assert release["fresh_runner"]["seconds"] > 0 and release["fresh_runner"]["pushed_mb"] > 0
    assert results["site_files"] > 2 * 150
    git = results["git"]
    assert (
        git["history_partitions"] == 4 and git["history_mb"] > 0 and git["restore_s"] > 0
    )  # 2 years x 2 halves
    assert git["after_release_mb"] >= git["after_first_version_mb"] > 0
    # Memory is each doit step's own peak (doit and the git it runs), named: an import or a
    # statistics pass of a few thousand rows stays far below DuckDB's limit, and the benchmark's
    # own git gc or zstd never counts.
    peaks = results["peaks_mb"]
    assert {
        "load",
        "stats",
        "render",
        "release",
        "publish",
        "publish (release, fresh runner)",
        "restore",
    } <= set(peaks)
    assert results["peak_memory_mb"] == max(peaks.values()) == peaks[results["peak_step"]]
    assert all(10 < mb < 1500 for mb in peaks.values()), peaks
    assert "| full render |" in run.report(results)
    assert "| DuckDB reading the files into memory, nothing else (the import's floor here) |" in run.report(
        results
    )
