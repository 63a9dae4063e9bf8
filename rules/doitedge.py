"""The edge between doit and the rules: errors become one line, and quiet runs stay quiet.

Only this module (used by `dodo.py`) turns ImmoStatsError into something for people; any
other exception is a bug and keeps its traceback.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import gc
import inspect
import os
import signal
import sqlite3
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path, PurePath
from typing import Any

from doit.exceptions import InvalidTask, TaskFailed
from doit.reporter import ExecutedOnlyReporter
from doit.task import IOConfig, Task, dict_to_task

from rules import progress, settled
from rules.errors import DiskFullError, ImmoStatsError, OutOfMemoryError, interrupted, no_space, out_of_memory
from rules.files import HashCache

INTERRUPTED = "interrupted (Ctrl-C): stopped; the next run finishes or undoes what this one left"
_said: list[bool] = []  # the interruption was already reported (by a task's failure)


def error_line(message: object) -> None:
    """An expected error, as people read it: one line on stderr, written at once."""
    sys.stderr.write(f"error: {message}\n")
    sys.stderr.flush()


@functools.cache  # one wrapper per function: 35,000 render tasks share it (0.5 s of a France no-op)
def guarded(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a task action: an ImmoStatsError fails the task with its one-line message."""

    @functools.wraps(fn)
    def action(*args: Any, **kwargs: Any) -> Any:
        try:
            result = fn(*args, **kwargs)
        except ImmoStatsError as e:
            return TaskFailed(str(e))
        except (KeyboardInterrupt, Exception) as e:
            if interrupted(e):  # Ctrl-C (or DuckDB's word for it): one line, no traceback
                _said.append(True)
                return TaskFailed(INTERRUPTED)
            if no_space(e):  # a full disk is the machine's state, not a bug: one line too
                return TaskFailed(str(DiskFullError(getattr(e, "filename", None) or "the build")))
            if out_of_memory(e):  # memory_limit too low for the work: the setting's, one line
                return TaskFailed(str(OutOfMemoryError()))
            raise
        return result if isinstance(result, dict | TaskFailed) else None

    # doit reads an action's signature at every run of it (to pass `targets`, `changed`...):
    # computed once here, not by unwrapping to `fn` 35,000 times (3.5 % of a full render).
    action.__signature__ = inspect.signature(fn)  # type: ignore[attr-defined]
    return action


def ctrl_c_is_one_line() -> None:
    """A Ctrl-C that lands in doit's own code (loading dodo.py, checking, dispatching or recording
    tasks, saving its records: most of a full render's time is there) leaves doit as a
    KeyboardInterrupt: say it in the one line a task says it in, not with doit's traceback.
    doit has saved what the tasks before it did (its runner closes the records in a `finally`),
    and Python still ends the process as killed by SIGINT, as a shell expects."""
    previous = sys.excepthook

    def hook(kind: type[BaseException], value: BaseException, tb: Any) -> None:
        if not issubclass(kind, KeyboardInterrupt):
            previous(kind, value, tb)
        elif not _said:  # a task that was interrupted has already said it
            error_line(INTERRUPTED)

    sys.excepthook = hook
    atexit.register(_end_as_interrupted)  # registered first: runs after every other exit handler


def _end_as_interrupted() -> None:
    """A task that caught the Ctrl-C failed (doit then exits 1): end the process as one killed by
    SIGINT, as Python ends it when the Ctrl-C reaches the top, so that a shell or a runner sees
    an interruption, not a failure."""
    if _said:
        sys.stdout.flush()
        sys.stderr.flush()
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)


class _Records:
    """What full_disk_at_the_records_is_one_line shares with the Reporter."""

    reported = False  # this project's Reporter runs the command: it says a save that failed
    lost: Path | None = None  # the folder whose full disk kept doit's records from being saved


def full_disk_at_the_records_is_one_line() -> None:
    """doit saves its records (build/.doit.sqlite3) as a run ends, even a run that ran no task (it
    rewrites its group tasks' records): on a full disk, sqlite's "database or disk is full" came
    out of doit as a traceback, after the tasks had done their work. With this project's reporter
    in charge (a run), it is the one line a task's full disk gives (unless a task already said
    one), and exit status 1; the next run, with room, does again what this one did, since none of
    its records was saved (sqlite rolls the write back whole). Other commands keep doit's error."""
    from doit.dependency import SqliteDB

    def kept(write: Callable[..., None]) -> Callable[..., None]:
        @functools.wraps(write)
        def written(self: SqliteDB, *args: Any) -> None:
            try:
                write(self, *args)
            except sqlite3.OperationalError as e:
                if "full" not in str(e) or not _Records.reported:
                    raise
                _Records.lost = Path(self.name).parent

        return written

    # dump: the run's records; remove: a failed task's (its old record stays: the inputs that
    # made it run still differ from it, so it runs again)
    SqliteDB.dump = kept(SqliteDB.dump)
    SqliteDB.remove = kept(SqliteDB.remove)


class _Closable:
    """sys.stdout or sys.stderr, for a reader that may go away (`doit | head`, a pager closed
    early): its write or flush then fails with EPIPE, which doit would turn into a traceback and a
    failed run halfway through. The stream's file descriptor is pointed at /dev/null instead, so
    what remains to say is dropped and the run goes on and ends as it would have. (Restoring
    SIGPIPE's default would end the process at once, but also at a socket write to a server that
    closed the connection.)"""

    def __init__(self, stream: Any) -> None:
        self._stream: Any = stream._stream if isinstance(stream, _Closable) else stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            self._drop()
            return len(text)

    def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            self._drop()

    def _drop(self) -> None:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, self._stream.fileno())
        os.close(null)
        with contextlib.suppress(BrokenPipeError):  # what the stream still holds goes to /dev/null
            self._stream.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


# doit's commands that only print. They took sys.stdout before dodo.py ran, so no wrapper reaches
# them: like `ls | head`, they end at once, silently, when their reader goes away.
PRINT_ONLY = frozenset({"list", "info", "help", "dumpdb", "tabcompletion"})


def output_may_close(argv: list[str]) -> None:
    """A reader of the run's output that goes away drops the rest of the output, not the run; a
    command that only prints ends there (SIGPIPE's default: nothing of theirs talks to a server)."""
    if argv[:1] and argv[0] in PRINT_ONLY:
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
        return
    sys.stdout = _Closable(sys.stdout)
    sys.stderr = _Closable(sys.stderr)


# Collections of the oldest generation every so many collections of the middle one: in effect never.
NO_FULL_COLLECTIONS = 1_000_000_000


def no_full_collections() -> None:
    """Stop Python's full garbage collections for this run, the last one at exit included; the
    young ones go on.

    A France run holds ~35,000 doit tasks, their records and nodes: about a million objects that
    live for the whole run. Python 3.11 runs a full collection each time the survivors grow by a
    quarter, and each one walks every object: 1.5-2 s of a 4.7 s no-change run at France scale
    (2026-12-03; 3.1 s without them, the same with every collection off). At exit, Python walks
    them once more to free doit's task graph (600,000 objects in cycles: 0.5-1 s): frozen after the
    other exit handlers ran, they are left to the OS with the rest of the process. Young collections
    still free short-lived cycles, and a page, a statistics pass or an import leaves no cyclic
    garbage (a test holds that), so nothing accumulates that a full collection would have freed."""
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, NO_FULL_COLLECTIONS)
    atexit.register(gc.freeze)  # registered first, so it runs after the handlers registered later


def preload_records(expected: Iterable[str] = ()) -> int:
    """Read all of doit's records from its sqlite3 file in one query, before doit checks 35,000
    render tasks: doit reads them one SELECT per task, and one query instead took a no-change run
    at France scale from 7.4-8.0 s to 6.0-6.3 s (2026-12-03). The records go where doit's own
    reads would put them (its backend's cache), without replacing one this run already read or
    changed, so doit decides exactly as it would have. A task of `expected` the file has no record
    of gets the empty one doit's own read leaves in its cache: a first render of all of France
    otherwise paid 35,000 SELECTs that find nothing (1.3 s). doit is pinned (pyproject.toml): with
    another backend, or a doit whose backend has no such cache, nothing is done. Returns the
    number of records read."""
    from doit.dependency import SqliteDB
    from doit.globals import Globals

    backend = getattr(Globals.dep_manager, "backend", None)
    cached = getattr(backend, "_cache", None)
    if not isinstance(backend, SqliteDB) or not isinstance(cached, dict):
        return 0
    cursor = backend._conn.cursor()
    cursor.row_factory = None  # tuples: doit's own rows are dicts built field by field
    read = 0
    for task_id, data in cursor.execute("select task_id, cast(task_data as text) from doit"):
        if task_id not in cached:
            cached[task_id] = backend.codec.decode(data)  # doit's own decoder: the same values
            read += 1
    for task_id in expected:
        cached.setdefault(task_id, {})  # SqliteDB.get: `self._cache[task_id] = {}` when no row
    return read


# What a subtask made by `subtasks` may declare: the fields that vary between pages.
SUBTASK_FIELDS = frozenset({"name", "actions", "file_dep", "targets", "clean"})


def subtasks(basename: str, declared: Iterable[dict], doc: str | None) -> Iterator[Task]:
    """The group task `basename` and its subtasks, as doit's loader makes them from yielded dicts,
    but each subtask copied from the first one doit itself made rather than built and checked
    field by field: doit's Task() checks 19 attributes and sets 35 (0.5 s of the 35,000 page tasks
    of a no-change run at France scale).

    A subtask declares only the fields that differ between pages (SUBTASK_FIELDS, `clean` True);
    the others are the first one's, copied so that no two tasks share a list, set or dict (doit
    keeps each task's values, results and changed files in them). Any other declaration, or a
    field doit would refuse, goes through doit's own Task(). doit is pinned (pyproject.toml): a
    test compares every attribute with what doit's loader makes from the same dicts. Unlike doit's
    loader, this leaves the dicts as they were (doit renamed them `basename:name` in place, and
    dodo.py reads them again for the prerender worker)."""
    group = Task(basename, None, doc=doc, has_subtask=True)
    yield group
    first: dict[str, Any] | None = None  # the first plain subtask's attributes, as doit set them
    fresh: list[str] = []  # those that hold a list, a set or a dict
    names: set[str] = set()
    for entry in declared:
        if not isinstance(entry.get("name"), str) or "basename" in entry:
            raise InvalidTask(
                f"Task generation '{basename}': a subtask needs a name and no basename: {entry}"
            )
        full = f"{basename}:{entry['name']}"
        if full in names:
            raise InvalidTask(f"Task generation '{basename}' has duplicated definition of '{full}'")
        plain = _plain(entry)
        if plain and first is not None:
            task = _copied(first, fresh, full, entry)
        else:
            task = dict_to_task({**entry, "name": full})
            task.subtask_of = basename
            if plain:
                first = dict(vars(task))
                fresh = [k for k, v in first.items() if isinstance(v, list | set | dict)]
        names.add(full)
        group.task_dep.append(full)
        yield task


def _plain(entry: dict) -> bool:
    """A subtask the copy can make: SUBTASK_FIELDS only, targets removed by `doit clean`, files
    named by strings or paths in lists, actions in a list."""
    return (
        entry.keys() == SUBTASK_FIELDS
        and entry["clean"] is True
        and "=" not in entry["name"]
        and isinstance(entry["actions"], list)
        and isinstance(entry["file_dep"], list | tuple)
        and isinstance(entry["targets"], list | tuple)
        and all(isinstance(f, str | PurePath) for f in (*entry["file_dep"], *entry["targets"]))
    )


def _copied(first: dict[str, Any], fresh: list[str], name: str, entry: dict) -> Task:
    task = Task.__new__(Task)
    task.__dict__ = attrs = first.copy()
    for key in fresh:
        attrs[key] = first[key].copy()
    attrs["io"] = IOConfig({"capture": first["io"].capture})
    attrs["name"] = name
    attrs["_actions"] = list(entry["actions"])
    attrs["file_dep"] = {f if isinstance(f, str) else str(f) for f in entry["file_dep"]}
    attrs["targets"] = [f if isinstance(f, str) else str(f) for f in entry["targets"]]
    return task


class files_unchanged:  # noqa: N801 (named as doit's own uptodate helpers, config_changed)
    """A doit `uptodate`: true while `files` hold the bytes they held at the task's last success,
    by their sha256 through the HashCache in `cache` (a file whose stat did not move is not read).

    It declares the DVF sources of `load` in place of `file_dep`: after an import, doit's checker
    read every source whose mtime had moved once more for its md5 (0.9 s per 500 MB file: a
    release's file, and five at a build from scratch), though the import needs their sha256 and
    keeps it. A file that cannot be read makes the task run, and its action says why. The digest
    is taken before the task runs and saved after its success: a file changed during the run
    makes the next run import again."""

    KEY = "_files_unchanged"

    def __init__(self, files: list[Path], cache: Path) -> None:
        self.files, self.cache = files, cache
        self.digest: list[list[str]] | None = None

    def configure_task(self, task: Task) -> None:
        task.value_savers.append(lambda: {self.KEY: self.digest})

    def __call__(self, task: Task, values: dict) -> bool:
        self.digest = self._digest()
        return self.digest is not None and values.get(self.KEY) == self.digest

    def _digest(self) -> list[list[str]] | None:
        if not self.files:
            return []
        hashes = HashCache(self.cache)
        try:
            shas = hashes.sha256s(self.files)
            digest = [[str(path), sha] for path, sha in zip(self.files, shas, strict=True)]
        except OSError:
            return None
        try:
            hashes.save()  # the import that follows finds them there
        except (ImmoStatsError, OSError):  # a full disk: the import hashes again, and says so
            pass
        return digest


def or_exit(make: Callable[[], Any]) -> Any:
    """Evaluate a setting while doit loads dodo.py: a bad value is one line and exit status 2."""
    try:
        return make()
    except ImmoStatsError as e:
        error_line(e)
        raise SystemExit(2) from None


class Reporter(ExecutedOnlyReporter):
    """Quiet by default, informative on demand.

    On a terminal, one progress bar per step of several tasks (fingerprint, render); then, and in CI,
    one summary line per such step that ran ("render: 1,363 pages in 2.1 s, 33,680 unchanged"),
    printed when the step ends. A single task (load, stats, publish) prints its own summary; nothing
    is printed for a step with nothing to do, so a no-change run prints nothing.
    `doit -v 2` prints one line per task instead. Expected errors are one line on stderr."""

    desc = "one line per step, one line per expected error"
    counts_left_out = True  # counts the pages rules/settled.py left out as unchanged

    def __init__(self, outstream: Any, options: dict) -> None:
        super().__init__(_Closable(outstream), options)  # doit took sys.stdout before dodo.py ran
        self.per_task = per_task_lines(sys.argv[1:])
        self.tasks: dict[str, Any] = {}
        self.steps: dict[str, _Step] = {}
        self.current: _Step | None = None
        self.failed = False
        _Records.reported = True

    def initialize(self, tasks: dict[str, Any], selected_tasks: list[str]) -> None:
        self.tasks = tasks  # the live table: tasks created later (create_after) appear in it

    def execute_task(self, task: Any) -> None:
        """Say nothing of a quiet task (it reports by itself), nor of one that only acts when named
        on the command line and was not."""
        meta = task.meta or {}
        if meta.get("quiet") or (meta.get("only_when_named") and task.name not in sys.argv[1:]):
            return
        if self.per_task:
            super().execute_task(task)
        elif task.actions:
            self._step(task).started()

    def add_success(self, task: Any) -> None:
        step = self.steps.get(_basename(task.name))
        if step and step.running:
            step.done()

    def skip_uptodate(self, task: Any) -> None:
        # task._actions, not task.actions: doit makes a task's action objects on first access,
        # and 35,000 pages that do not run need none (0.1 s of a no-change run at France scale).
        if not self.per_task and task._actions:
            self._step(task).unchanged()

    def add_failure(self, task: Any, fail: Any) -> None:
        self._finish()
        self.failed = True
        if isinstance(fail, TaskFailed) and not fail.traceback:
            error_line(fail.message)
            return
        super().add_failure(task, fail)

    def complete_run(self) -> None:
        self._finish()
        super().complete_run()
        if _Records.lost:  # doit could not save its records (full_disk_at_the_records_is_one_line)
            if not self.failed:
                error_line(DiskFullError(_Records.lost))
            raise SystemExit(1)

    def _step(self, task: Any) -> _Step:
        name = _basename(task.name)
        if self.current is not None and self.current.name != name:
            self._finish()
        if name not in self.steps:
            siblings = sum(1 for t in self.tasks if t.startswith(name + ":"))
            self.steps[name] = _Step(name, siblings, settled.left_out(name))
        self.current = self.steps[name]
        return self.current

    def _finish(self) -> None:
        """Close the current step: its bar goes, its summary line stays (if it ran anything)."""
        if self.current is not None:
            line = self.current.close()
            if line:
                self.write(line + "\n")
                self.outstream.flush()
        self.current = None


class _Step:
    """What one step (a task, or a family of subtasks) did: run, unchanged, time spent."""

    UNITS = {"render": "pages", "fingerprint": "templates"}

    def __init__(self, name: str, subtasks: int, left_out: int = 0) -> None:
        """`subtasks` doit holds, and `left_out` more it was not given, up to date (rules/settled.py)."""
        self.name, self.subtasks = name, subtasks + left_out
        self.ran, self.kept = 0, left_out
        self.seconds = 0.0
        self.running = False
        self.clock = 0.0
        unit = self.UNITS.get(name, "tasks")
        self.bar = progress.bar(name, self.subtasks, unit) if self.subtasks > 1 else None
        if self.bar is not None and left_out:
            self.bar.update(left_out)

    def started(self) -> None:
        self.running, self.clock = True, time.monotonic()

    def done(self) -> None:
        self.seconds += time.monotonic() - self.clock
        self.ran += 1
        self.running = False
        if self.bar is not None:
            self.bar.update()

    def unchanged(self) -> None:
        self.kept += 1
        if self.bar is not None:
            self.bar.update()

    def close(self) -> str:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        if not self.ran or not self.subtasks:
            return ""  # a single task (load, stats, publish) reports by itself
        unit = self.UNITS.get(self.name, "tasks")
        unit = unit.removesuffix("s") if self.ran == 1 else unit
        kept = f", {self.kept:,} unchanged" if self.kept else ""
        return f"{self.name}: {self.ran:,} {unit} in {self.seconds:.1f} s{kept}"


def _basename(task_name: str) -> str:
    return task_name.split(":", 1)[0]


def per_task_lines(argv: list[str]) -> bool:
    """`doit -v 2` (or `-v2`, `--verbosity 2`, `--verbosity=2`) asks for one line per task."""
    for i, arg in enumerate(argv):
        if arg in ("-v", "--verbosity") and i + 1 < len(argv):
            value = argv[i + 1]
        elif arg.startswith("--verbosity="):
            value = arg.split("=", 1)[1]
        elif arg.startswith("-v") and arg[2:].isdigit():
            value = arg[2:]
        else:
            continue
        return value.isdigit() and int(value) >= 2
    return False
