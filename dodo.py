"""ImmoStats: DVF -> DuckDB -> per-place JSON -> static site.

Run `doit` (a second run does nothing and prints nothing); `doit list` shows the steps.
Command-line variables: build_dir=, site_dir=, source= (a DVF file or folder; default: the
real sample in tests/data/sample), memory_limit=, threads=.
"""

from __future__ import annotations

from doit import get_var
from doit.tools import config_changed

from rules import reference, sources, store
from rules.doitedge import Reporter, guarded
from rules.errors import ImmoStatsError
from rules.paths import SAMPLE_SOURCE, Paths
from rules.settings import Settings

P = Paths.of(get_var("build_dir", "build"), get_var("site_dir", "site"))
P.build.mkdir(parents=True, exist_ok=True)  # doit does not create its dep_file's folder
SETTINGS = Settings.from_vars(get_var)
SOURCE = get_var("source", str(SAMPLE_SOURCE))

DOIT_CONFIG = {
    "default_tasks": ["load"],
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
