"""The one exception hierarchy of the project.

Library code raises these; only the edge (`dodo.py`, through `rules.doitedge`) turns them
into one line for the person running `doit`.
"""

from __future__ import annotations

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


_CREDENTIALS = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/@\s]+@")


def redact(text: str) -> str:
    """Credentials in URLs (`https://x-access-token:...@github.com`) never reach a message."""
    return _CREDENTIALS.sub(r"\1***@", text)
