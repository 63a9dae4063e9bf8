"""Page tasks doit would find up to date, left out of a run before doit walks them.

A build of all of France declares 35,000 page tasks. With nothing to render, doit still made a task
object of each, passed it through its dispatcher and checked its files: about 1.5 s of a 2.1-2.6 s
no-change run (2026-12-07), and as much of a release's build and of its publish. Each page is still
one doit task, declared and recorded as before; this module only spares doit the pages it would
skip at its first and cheapest test, judged in one pass when the pages' tasks are made.

A page is left out only when all of these hold, and is otherwise handed to doit, which decides
as it always did (a page whose input has a new mtime but the same bytes, for instance):
- the run is doit's `run`, with the pages' tasks made during the run (dodo.py's create_after), by
  its one-task-at-a-time runner, not `--always-execute`, with doit's MD5Checker (or dodo.py's, which
  records the same states: rules/md5checker.py) and a reporter that counts the pages left out
  (dodo.py's), and no page was asked for, by its task or its file;
- every task that writes one of the page's inputs (by doit's own map of targets) has already been
  processed in this run, up to date or successful: no input of the page can change before doit
  would have reached it. An input no task declares is one doit too reads as it finds it;
- doit's record of the page names the checker doit uses, no `doit ignore` mark, and the page's
  inputs, exactly;
- the page exists, and each input's mtime is the one recorded (doit's MD5Checker: "if timestamp
  is not modified file is the same").

Left-out pages count as unchanged in the step's line ("render: 3 pages in 0.1 s, 35,041
unchanged"). doit is pinned (pyproject.toml); a test compares every judgment with doit's own.
"""

from __future__ import annotations

import functools
import os
from typing import Any

SETTLED = frozenset({"up-to-date", "successful"})  # doit's ExecNode.run_status once processed


class _Run:
    """The run in progress: doit's dispatcher (its tasks, targets and nodes), and whether its pages
    may be left out (see `watch_runs`)."""

    dispatcher: Any = None
    may_leave_out = False
    watched = False
    left_out: dict[str, int] = {}


def watch_runs() -> None:
    """Keep, while doit's runner runs, its dispatcher: the pages' tasks are made during the run, and
    only then is what the run has processed known. Pages are left out only by doit's one-task-at-a-
    time runner (under `-n`, tasks made later finish in any order: a page's input may yet have a
    writer doit has not made), without `--always-execute`, and with a reporter that counts them
    (`counts_left_out`; doit's console and json reporters list every up-to-date task)."""
    from doit.runner import Runner

    if _Run.watched:
        return
    original = Runner.run_all

    @functools.wraps(original)
    def run_all(self: Runner, task_dispatcher: Any) -> Any:
        _Run.dispatcher, _Run.left_out = task_dispatcher, {}
        _Run.may_leave_out = (
            type(self) is Runner
            and not self.always_execute
            and getattr(self.reporter, "counts_left_out", False) is True
        )
        try:
            return original(self, task_dispatcher)
        finally:
            _Run.dispatcher, _Run.may_leave_out = None, False

    Runner.run_all = run_all
    _Run.watched = True


def left_out(basename: str) -> int:
    """How many of `basename`'s subtasks this run left out as up to date."""
    return _Run.left_out.get(basename, 0)


def still_to_check(basename: str, declared: list[dict]) -> list[dict]:
    """`declared` (subtasks of `basename`, as dicts) less those doit would find up to date now."""
    from doit import dependency
    from doit.globals import Globals

    from rules.doitedge import SUBTASK_FIELDS  # here: doitedge's reporter imports this module
    from rules.md5checker import MD5Checker

    run, dep = _Run.dispatcher, Globals.dep_manager
    backend = getattr(dep, "backend", None)
    if run is None or not _Run.may_leave_out or not isinstance(getattr(backend, "_cache", None), dict):
        return declared
    if type(getattr(dep, "checker", None)) not in (MD5Checker, dependency.MD5Checker):  # others: other states
        return declared
    if any(name.startswith((f"{basename}:", "_regex_target")) for name in run.selected_tasks):
        return declared  # a page asked for by its name or its file: doit makes it from the list
    judge = _Judge(MD5Checker.__name__, run.targets, run.nodes, SUBTASK_FIELDS)
    kept = [e for e in declared if not judge.up_to_date(e, _record(backend, f"{basename}:{e['name']}"))]
    _Run.left_out[basename] = len(declared) - len(kept)
    return kept


def _record(backend: Any, task_id: str) -> dict:
    """doit's record of a task, through its own read (one query, unless doitedge.preload_records
    read them all first); {} for a task it holds nothing of."""
    if task_id not in backend._cache:
        backend.get(task_id, "deps:")  # SqliteDB.get caches the whole record, {} when none
    return backend._cache.get(task_id) or {}


class _Judge:
    """doit's up-to-date test for one pass over the pages, each file's stat taken once. A page
    declaring more than `fields` (doitedge.subtasks' plain page tasks: no `uptodate`, say) goes to
    doit."""

    def __init__(
        self, checker: str, producers: dict[str, str], nodes: dict[str, Any], fields: frozenset[str]
    ) -> None:
        self.checker, self.producers, self.nodes, self.fields = checker, producers, nodes, fields
        self.mtimes: dict[str, float | None] = {}

    def up_to_date(self, entry: dict, record: dict) -> bool:
        if entry.keys() != self.fields or not record:
            return False
        if record.get("checker:") != self.checker or "ignore:" in record:
            return False
        deps = [d if isinstance(d, str) else str(d) for d in entry["file_dep"]]
        if not deps or set(record.get("deps:") or ()) != set(deps):
            return False
        if any(self._mtime(str(t)) is None for t in entry["targets"]):
            return False
        for path in deps:
            state = record.get(path)
            if not state or not self._settled(path) or self._mtime(path) != state[0]:
                return False
        return True

    def _settled(self, path: str) -> bool:
        """No task still to come in this run writes `path`."""
        producer = self.producers.get(path)
        if producer is None:
            return True
        node = self.nodes.get(producer)
        return node is not None and node.run_status in SETTLED

    def _mtime(self, path: str) -> float | None:
        """The file's mtime as doit reads it (os.stat's float), None if it is missing."""
        if path not in self.mtimes:
            try:
                self.mtimes[path] = os.stat(path).st_mtime
            except OSError:
                self.mtimes[path] = None
        return self.mtimes[path]
