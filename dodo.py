"""ImmoStats: DVF -> DuckDB -> per-place JSON -> static site.

Run `doit` (a second run does nothing and prints nothing); `doit list` shows the steps.
Command-line variables: build_dir=, site_dir=, source= (a DVF file or folder; default: the
real sample in tests/data/sample), memory_limit=, threads=.
"""

from __future__ import annotations

from doit import get_var
from doit.tools import config_changed

from rules import method, places, reference, sources, stats, store
from rules.doitedge import Reporter, guarded, or_exit
from rules.errors import ImmoStatsError
from rules.method import Method
from rules.paths import SAMPLE_SOURCE, Paths
from rules.settings import Settings

P = Paths.of(get_var("build_dir", "build"), get_var("site_dir", "site"))
P.build.mkdir(parents=True, exist_ok=True)  # doit does not create its dep_file's folder
SETTINGS = or_exit(lambda: Settings.from_vars(get_var))
METHOD = or_exit(lambda: Method.from_vars(get_var))
PLACES = places.all_places(SETTINGS.scope())
SOURCE = get_var("source", str(SAMPLE_SOURCE))

DOIT_CONFIG = {
    "default_tasks": ["load", "stats"],
    "dep_file": str(P.doit_db),
    "backend": "sqlite3",
    "reporter": Reporter,
    "verbosity": 2,
    "minversion": "0.37.0",
}


def _source_files() -> list:
    """Resolved lazily so a bad source= is one error line from the task, not a dodo crash."""
    try:
        return sources.discover(SOURCE)
    except ImmoStatsError:  # reported by the load action itself, as one line
        return []


def task_load():
    """Import the DVF source into the DuckDB history store (build/dvf.duckdb)."""
    files = _source_files()
    return {
        "actions": [(guarded(_load), [files])],
        "file_dep": [*files, *store.SQL_FILES, *reference.FILES, store.__file__, sources.__file__],
        "targets": [P.db, P.store_manifest],
        "uptodate": [config_changed({"source": SOURCE, **SETTINGS.as_dict()})],
        "clean": True,
    }


def _load(files: list) -> None:
    store.import_files(P, files or sources.discover(SOURCE), SETTINGS)


def task_stats():
    """Compute every figure in one DuckDB pass; write one JSON per place (only if its bytes change)."""
    return {
        "actions": [(guarded(stats.run), [P, METHOD, SETTINGS])],
        "file_dep": [
            P.store_manifest,
            *stats.SQL_FILES,
            *reference.FILES,
            stats.__file__,
            method.__file__,
            places.__file__,
        ],
        "targets": [P.changes, P.data_manifest, *(places.json_path(P, *key) for key in PLACES)],
        "uptodate": [config_changed({**METHOD.as_dict(), "departements": sorted(SETTINGS.scope())})],
        "clean": True,
    }
