"""The one exception hierarchy of the project.

Library code raises these; only the edge (`dodo.py`, through `rules.doitedge`) turns them
into one line for the person running `doit`.
"""

from __future__ import annotations


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
