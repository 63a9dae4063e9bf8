"""One doit at a time per build folder: an advisory lock held for the whole run.

Every doit that can write `build/` or `site/` (a build, publish, rollback, purge, forget, clean)
holds an exclusive `flock` on `build/lock` from the moment dodo.py loads until the process
ends. So `doit publish` commits exactly the tree its quality gate checked: no other doit can
write `site/` in between. The kernel releases the lock when the process dies, however it dies
(SIGKILL included), so a lock is never "stale": a reused pid, or a lock file restored from a CI
cache, holds nothing. The file's text (pid and command) only serves the error message.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO

from rules.errors import ImmoStatsError, redact

# doit commands that only read: they never wait for, nor block, a running build.
READ_ONLY_COMMANDS = frozenset({"list", "help", "info", "dumpdb", "tabcompletion"})
_OPTIONS_WITH_VALUE = frozenset({"-f", "--file", "-d", "--dir", "-v", "--verbosity", "-n", "--process"})

_held: list[IO[str]] = []  # keeps the locked file open for the life of the process


class BusyError(ImmoStatsError):
    """Another doit holds the build folder."""


def command(argv: list[str]) -> str:
    """The doit command in `argv` (`run` when only tasks and variables are given)."""
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg in _OPTIONS_WITH_VALUE:
            skip = True
        elif not arg.startswith("-") and "=" not in arg:
            return arg if arg in READ_ONLY_COMMANDS or arg in {"run", "clean", "forget", "strace"} else "run"
    return "run"


def hold(path: Path, argv: list[str]) -> bool:
    """Take the lock for this process unless the command only reads; False if not needed."""
    if command(argv) in READ_ONLY_COMMANDS:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    f = open(path, "a+", encoding="utf-8")  # noqa: SIM115 (held until the process exits)
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        f.seek(0)
        holder = f.read().strip() or "unknown process"
        f.close()
        raise BusyError(
            f"another doit is running on {path.parent} ({holder}); wait for it to finish"
        ) from None
    f.seek(0)
    f.truncate()
    f.write(redact(f"pid {os.getpid()}: doit {' '.join(argv)}")[:300] + "\n")
    f.flush()
    _held.append(f)
    return True
