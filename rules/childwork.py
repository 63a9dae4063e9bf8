"""A share of a run's work done on the other core: a function of `rules` called in a child
process (a fresh interpreter: nothing of the run's DuckDB or threads is forked), its arguments
and its result pickled.

The run never depends on it: a child that dies or fails gives no result, and the run does that
share itself (and meets, as its own error, what the child met: a full disk says so from the run,
with its type and message intact). The child dies with the run (rules/lifetime.py) and ignores a
Ctrl-C sent to the run's terminal group: the run decides.
"""

from __future__ import annotations

import importlib
import os
import pickle
import signal
import subprocess
import sys
from typing import Any

from rules import lifetime
from rules.paths import ROOT


class Child:
    """`module.function(*args)` started in a child process; `result()` waits for it."""

    def __init__(self, module: str, function: str, args: tuple[Any, ...]) -> None:
        setup = os.memfd_create("immostats-childwork")
        os.write(setup, pickle.dumps((module, function, args, os.getpid())))
        os.lseek(setup, 0, os.SEEK_SET)  # the child reads it from the start
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", "from rules.childwork import main; main()", str(setup)],
                pass_fds=(setup,),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                cwd=ROOT,
                process_group=0,
            )
        finally:
            os.close(setup)

    def result(self) -> Any | None:
        """The function's value; None if the child did not give one (the caller does the work)."""
        assert self.proc.stdout is not None
        data = self.proc.stdout.read()
        self.proc.wait()
        try:
            outcome, value = pickle.loads(data)
        except (pickle.UnpicklingError, EOFError, ValueError, TypeError):
            return None  # killed, or its result cut short
        return value if outcome == "ok" else None

    def stop(self) -> None:
        """Kill the child if it still runs (the run stopped, or has what it needs)."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()


def main() -> None:
    """The child (`python -c`, with the setup as a descriptor): call, send the outcome on stdout."""
    with open(int(sys.argv[1]), "rb") as f:
        module, function, args, parent = pickle.loads(f.read())
    if not lifetime.tie_to(parent):  # the run died before the child got here
        return
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C sent to the run's group is the run's
    try:
        outcome: tuple[str, Any] = ("ok", getattr(importlib.import_module(module), function)(*args))
    except Exception as e:  # noqa: BLE001 - the run does the share again, and meets it as its own
        outcome = ("failed", repr(e))
    try:
        data = pickle.dumps(outcome)
    except (pickle.PicklingError, TypeError, AttributeError):
        data = pickle.dumps(("failed", "an outcome that cannot be pickled"))
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()
