"""Third-party packages imported on first use, not when `doit` loads dodo.py.

Every `doit` imports dodo.py and, through it, every module of `rules`: with DuckDB, requests and
Jinja imported eagerly that was 0.2 s of each run, most of a no-change run, although such a run
never opens a database, a connection or a template. A module takes them from here
(`from rules.lazy import duckdb`) and the package loads on the first attribute it is asked for
(the standard library's `importlib.util.LazyLoader`). Type checkers see the real packages.
"""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType
from typing import TYPE_CHECKING


def module(name: str) -> ModuleType:
    """`name`, imported now if it already is, else on the first attribute read from it."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ModuleNotFoundError(f"No module named {name!r}", name=name)
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    lazy = importlib.util.module_from_spec(spec)
    sys.modules[name] = lazy
    loader.exec_module(lazy)
    return lazy


if TYPE_CHECKING:
    import duckdb
    import jinja2
    import requests
    import requests.adapters
    import urllib3
else:
    duckdb = module("duckdb")
    jinja2 = module("jinja2")
    requests = module("requests")
    urllib3 = module("urllib3")
