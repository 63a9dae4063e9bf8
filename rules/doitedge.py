"""The edge between doit and the rules: errors become one line, and quiet runs stay quiet.

Only this module (used by `dodo.py`) turns ImmoStatsError into something for people; any
other exception is a bug and keeps its traceback.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from typing import Any

from doit.exceptions import TaskFailed
from doit.reporter import ExecutedOnlyReporter

from rules.errors import ImmoStatsError

INTERRUPTED = "interrupted (Ctrl-C): stopped; the next run finishes or undoes what this one left"


def guarded(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a task action: an ImmoStatsError fails the task with its one-line message."""

    @functools.wraps(fn)
    def action(*args: Any, **kwargs: Any) -> Any:
        try:
            result = fn(*args, **kwargs)
        except ImmoStatsError as e:
            return TaskFailed(str(e))
        except KeyboardInterrupt:  # Ctrl-C: the run stops here, in one line, with no traceback
            return TaskFailed(INTERRUPTED)
        return result if isinstance(result, dict | TaskFailed) else None

    return action


def or_exit(make: Callable[[], Any]) -> Any:
    """Evaluate a setting while doit loads dodo.py: a bad value is one line and exit status 2."""
    try:
        return make()
    except ImmoStatsError as e:
        sys.stderr.write(f"error: {e}\n")
        raise SystemExit(2) from None


class Reporter(ExecutedOnlyReporter):
    """Prints the names of tasks that run, nothing for up-to-date ones, one line per expected error."""

    desc = "executed-only, with one-line errors"

    def execute_task(self, task: Any) -> None:
        """Say nothing of a quiet task (it reports by itself), nor of one that only acts when named
        on the command line and was not."""
        meta = task.meta or {}
        if meta.get("quiet") or (meta.get("only_when_named") and task.name not in sys.argv[1:]):
            return
        super().execute_task(task)

    def add_failure(self, task: Any, fail: Any) -> None:
        if isinstance(fail, TaskFailed) and not fail.traceback:
            sys.stderr.write(f"error: {fail.message}\n")
            sys.stderr.flush()
            return
        super().add_failure(task, fail)


def github_output(**values: str) -> None:
    """Step outputs for GitHub Actions (`name=value` lines in $GITHUB_OUTPUT); nothing elsewhere."""
    target = os.environ.get("GITHUB_OUTPUT")
    if target:
        with open(target, "a", encoding="utf-8") as f:
            f.writelines(f"{name}={value}\n" for name, value in values.items())
