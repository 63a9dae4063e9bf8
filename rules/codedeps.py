"""The Python code a task runs, computed: code is an input like data.

A task's action is a function; the files it can reach are its module and every `rules` module
that module imports, transitively (imports inside functions included), plus the SQL files of
`rules/sql/` those modules name. Declared as `file_dep`, an edit to any of them reruns the task,
and an edit elsewhere reruns nothing. Found by reading the sources (`ast`), not by importing
them, so the answer does not depend on what happens to be imported already.
"""

from __future__ import annotations

import ast
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


@cache
def _tree(module: str) -> ast.Module:
    path = _module_file(module)
    return ast.parse(path.read_text("utf-8"), filename=str(path))


@cache
def _imports(module: str) -> frozenset[str]:
    """The `rules` modules `module` imports, wherever the import statement is."""
    found: set[str] = set()
    for node in ast.walk(_tree(module)):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if _in_package(a.name)}
        elif isinstance(node, ast.ImportFrom) and node.module and _in_package(node.module) and not node.level:
            found.add(node.module)
            for alias in node.names:  # `from rules import stats` imports a module
                candidate = f"{node.module}.{alias.name}"
                if _module_file(candidate).exists():
                    found.add(candidate)
    return frozenset(found - {module})


@cache
def _sql_files(module: str) -> frozenset[Path]:
    """The files of rules/sql/ whose name the module spells as a string (`sql("place_recent")`)."""
    strings = {
        node.value
        for node in ast.walk(_tree(module))
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    }
    return frozenset(p for p in SQL_DIR.glob("*.sql") if p.stem in strings or p.name in strings)
