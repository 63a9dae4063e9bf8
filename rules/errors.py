"""The one exception hierarchy of the project.

Library code raises these; only the edge (`dodo.py`, through `rules.doitedge`) turns them
into one line for the person running `doit`.
"""

from __future__ import annotations

import errno
import re


class ImmoStatsError(Exception):
    """Base of every error that is the input's or the setting's fault, not a bug."""


class InputError(ImmoStatsError):
    """A source file cannot be imported: says which file, which line and what is wrong."""

    def __init__(self, path: object, problem: str, line: int | None = None) -> None:
        self.path = str(path)
        self.line = line
        self.problem = problem
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {problem}")


class ConfigError(ImmoStatsError):
    """A command-line variable or setting has a value we cannot use."""


class DiskFullError(ImmoStatsError):
    """No space left where the build writes: what was being written is named, nothing is half-done."""

    def __init__(self, where: object) -> None:
        super().__init__(f"no space left on the device of {where}: free some space and run doit again")


class OutOfMemoryError(ImmoStatsError):
    """DuckDB could not do its work within `memory_limit`: the setting's fault, not the data's."""

    def __init__(self) -> None:
        super().__init__(
            "DuckDB ran out of memory within memory_limit: raise memory_limit (2GB is enough for all of "
            "France) or lower threads, then run doit again"
        )


def out_of_memory(e: BaseException) -> bool:
    """DuckDB's OutOfMemoryException (by name: this module does not load DuckDB)."""
    return isinstance(e, OutOfMemoryError) or type(e).__name__ == "OutOfMemoryException"


NO_SPACE = (errno.ENOSPC, errno.EDQUOT)


def no_space(e: BaseException) -> bool:
    """A full disk, whoever reports it: an OSError, or DuckDB and git quoting the system's words."""
    if isinstance(e, DiskFullError):
        return True
    if isinstance(e, OSError) and e.errno in NO_SPACE:
        return True
    return "No space left on device" in str(e) or "Disk quota exceeded" in str(e)


def interrupted(e: BaseException) -> bool:
    """A Ctrl-C, wherever it landed: Python's KeyboardInterrupt, DuckDB's InterruptException (a
    query interrupted by `interrupt()`), or the RuntimeError("Query interrupted") DuckDB raises
    instead of KeyboardInterrupt when SIGINT arrives while a query runs (measured: DuckDB 2.0)."""
    if isinstance(e, KeyboardInterrupt) or type(e).__name__ == "InterruptException":
        return True
    return type(e) is RuntimeError and str(e) == "Query interrupted"


_CREDENTIALS = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/@\s]+@")


def redact(text: str) -> str:
    """Credentials in URLs (`https://x-access-token:...@github.com`) never reach a message."""
    return _CREDENTIALS.sub(r"\1***@", text)
