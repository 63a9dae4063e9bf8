"""A run skips Python's full garbage collections (doitedge.no_full_collections): safe only while
what a run does in Python leaves no cyclic garbage, which these tests hold."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from conftest import HENDAYE, RAW_2020, RAW_2021, make_source

from rules import render, stats, store
from rules.doitedge import NO_FULL_COLLECTIONS
from rules.method import Method
from rules.paths import ROOT, Paths
from rules.settings import Settings

SCOPED = Settings(departements="01,64,75,976")


@contextmanager
def no_cycles_left() -> Iterator[None]:
    """Fail when the block leaves objects that only the cycle collector can free."""
    gc.collect()
    gc.disable()
    try:
        yield
        garbage = gc.collect()
    finally:
        gc.enable()
    assert garbage == 0, f"{garbage} objects in reference cycles left behind"


def _import_and_compute(paths: Paths) -> None:
    files = [RAW_2020, RAW_2021, *HENDAYE]
    store.import_files(paths, files, SCOPED, log=lambda _: None)
    stats.run(paths, Method(), SCOPED, log=lambda _: None)


def test_an_import_and_a_statistics_pass_leave_no_cycles(tmp_path: Path) -> None:
    _import_and_compute(Paths.of(tmp_path / "warm" / "build", tmp_path / "warm" / "site"))  # first imports
    with no_cycles_left():
        _import_and_compute(Paths.of(tmp_path / "build", tmp_path / "site"))


def test_rendering_pages_of_every_level_leaves_no_cycles(built: Paths) -> None:
    data = built.site / "data"
    pages = [("france", "france", data / "france.json")]
    for level, folder in (("region", "regions"), ("departement", "departements"), ("commune", "villes")):
        files = sorted((data / folder).glob("*.json"))
        assert files, folder
        pages += [(level, f.stem, f) for f in files[:60]]
    for level, code, path in pages[:: len(pages) // 4]:  # compiled templates, map shapes read once
        render.page_html(built, level, code, path.read_bytes())
    with no_cycles_left():
        for level, code, path in pages:
            render.page_html(built, level, code, path.read_bytes())


def test_dodo_turns_full_collections_off(tmp_path: Path) -> None:
    source = make_source(tmp_path / "source")
    code = "import gc, runpy; runpy.run_path('dodo.py'); print(gc.get_threshold()[2])"
    env = {**os.environ, "IMMOSTATS_BUILD_DIR": str(tmp_path / "build"), "IMMOSTATS_SOURCE": str(source)}
    env["IMMOSTATS_SITE_DIR"] = str(tmp_path / "site")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert int(out.stdout.split()[-1]) == NO_FULL_COLLECTIONS
