"""The Python code a task runs, computed: code is an input like data.

A task's action is a function; the files it can reach are its module and every `rules` module
that module imports, transitively (imports inside functions included), plus the SQL files of
`rules/sql/` those modules name. Declared as `file_dep`, an edit to any of them reruns the task,
and an edit elsewhere reruns nothing. Found by reading the sources as text, not by importing
them, so the answer does not depend on what happens to be imported already; regular expressions
rather than `ast`, because every `doit` pays for this (parsing the package costs 0.4 s, reading it
10 ms), and a false match only adds an input, it never loses one.
"""

from __future__ import annotations

import re
import types
from collections.abc import Callable, Iterable
from functools import cache
from pathlib import Path

from rules.paths import RULES, SQL

PACKAGE = "rules"
PACKAGE_DIR = RULES
SQL_DIR = SQL


def inputs(*entries: Callable | types.ModuleType) -> list[Path]:
    """Every source file the given functions or modules can run: `.py` files, then `.sql` ones."""
    modules: set[str] = set()
    for entry in entries:
        modules |= _entry_modules(entry)
    reached = _closure(frozenset(modules))
    files = {_module_file(m) for m in reached}
    files |= {sql for m in reached for sql in _sql_files(m)}
    return sorted(files)


def _entry_modules(entry: Callable | types.ModuleType) -> set[str]:
    """The `rules` modules an entry point stands for. A function outside the package (the glue
    in dodo.py) stands for the `rules` modules and functions its body names."""
    if isinstance(entry, types.ModuleType):
        return {entry.__name__} if _in_package(entry.__name__) else set()
    name = getattr(entry, "__module__", "") or ""
    if _in_package(name):
        return {name}
    found: set[str] = set()
    code = getattr(entry, "__code__", None)
    glob = getattr(entry, "__globals__", {})
    for ref in _names(code) if code else ():
        value = glob.get(ref)
        if isinstance(value, types.ModuleType):
            found |= _entry_modules(value)
        elif callable(value) and _in_package(getattr(value, "__module__", "") or ""):
            found.add(value.__module__)
    return found


def _names(code: types.CodeType) -> Iterable[str]:
    """Global names a code object and the code objects nested in it (lambdas, inner functions) use."""
    yield from code.co_names
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _names(const)


def _in_package(module: str) -> bool:
    return module == PACKAGE or module.startswith(PACKAGE + ".")


def _module_file(module: str) -> Path:
    relative = module.split(".")[1:]
    if not relative:
        return PACKAGE_DIR / "__init__.py"
    path = PACKAGE_DIR.joinpath(*relative)
    module_file = path.with_suffix(".py")  # rules/reference.py beside its data in rules/reference/
    return module_file if module_file.exists() else path / "__init__.py"


@cache
def _closure(roots: frozenset[str]) -> frozenset[str]:
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        todo.extend(_imports(module))
    return frozenset(seen)


_IMPORT = re.compile(r"^[ \t]*import[ \t]+(rules(?:\.\w+)*)", re.MULTILINE)
_FROM = re.compile(r"^[ \t]*from[ \t]+(rules(?:\.\w+)*)[ \t]+import[ \t]+(\([^)]*\)|[^\n]*)", re.MULTILINE)
_STRING = re.compile(r"""["']([A-Za-z0-9_]+)(?:\.sql)?["']""")


@cache
def _source(module: str) -> str:
    return _module_file(module).read_text("utf-8")


@cache
def _imports(module: str) -> frozenset[str]:
    """The `rules` modules `module` imports, wherever the import statement is."""
    text = _source(module)
    found = set(_IMPORT.findall(text))
    for package, names in _FROM.findall(text):
        found.add(package)
        for name in names.strip("()").replace("\n", " ").split(","):
            candidate = f"{package}.{name.split()[0]}" if name.split() else ""
            if candidate and _module_file(candidate).exists():  # `from rules import stats`
                found.add(candidate)
    return frozenset(found - {module})


@cache
def _sql_files(module: str) -> frozenset[Path]:
    """The files of rules/sql/ whose name the module spells as a quoted string (a query by name)."""
    names = set(_STRING.findall(_source(module)))
    return frozenset(p for p in _sql_dir() if p.stem in names)


@cache
def _sql_dir() -> tuple[Path, ...]:
    return tuple(sorted(SQL_DIR.glob("*.sql")))
