"""Shared fixtures: real DuckDB files and real `doit` runs in temporary folders."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from rules.paths import ROOT, Paths

DATA = ROOT / "tests" / "data"
SAMPLE = DATA / "sample"
RAW_2020 = SAMPLE / "valeursfoncieres-2020_head_dep01.txt"
RAW_2021 = SAMPLE / "valeursfoncieres-2021-s1_head40_dep01.txt"
GEO_2021 = DATA / "dvf" / "geo-dvf-2021_head40_dep01.csv"
CEREMA = DATA / "dvf" / "cerema_MASKED_ayants-droits_dep59_2500rows.txt"


def pytest_report_header(config: pytest.Config) -> str:
    import doit
    import jinja2

    doit_version = ".".join(map(str, doit.__version__))
    return f"duckdb {duckdb.__version__}, doit {doit_version}, jinja2 {jinja2.__version__}"


@pytest.fixture
def paths(tmp_path: Path) -> Paths:
    return Paths.of(tmp_path / "build", tmp_path / "site")


def run_doit(paths: Paths, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run the real `doit` on the project's dodo.py, pointed at `paths`."""
    cmd = [
        sys.executable,
        "-m",
        "doit",
        "-f",
        str(ROOT / "dodo.py"),
        *args,
        f"build_dir={paths.build}",
        f"site_dir={paths.site}",
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=600)
    if check and proc.returncode != 0:
        raise AssertionError(
            f"doit {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
        )
    return proc


def tables(db: Path) -> dict[str, list[tuple]]:
    """Every row of the store's data tables, sorted: equal dicts mean equal databases."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        names = [r[0] for r in con.execute("select table_name from duckdb_tables() order by 1").fetchall()]
        out = {}
        for name in names:
            if name == "update_log":
                continue
            rows = con.execute(f"select * from {name}").fetchall()
            out[name] = sorted(rows, key=repr)
        return out
    finally:
        con.close()


def query(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()
