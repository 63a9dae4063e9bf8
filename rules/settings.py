"""Build settings that change outputs or resources, declared to doit with `config_changed`.

Each can be set on the command line (`doit memory_limit=2GB`); `Settings.from_vars` reads them.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields

from rules.errors import ConfigError
from rules.places import parse_scope

Getter = Callable[[str, str | None], str | None]


def environment_fallback(get: Getter) -> Getter:
    """`name=value` from the command line, else `IMMOSTATS_NAME` from the environment (how the
    workflow passes repository variables; an empty value counts as unset), else the default."""

    def var(name: str, default: str | None = None) -> str | None:
        value = get(name, None)
        if value is None:
            value = os.environ.get(f"IMMOSTATS_{name.upper()}") or None
        return default if value is None else value

    return var


def read_vars(
    cls: type, get: Getter, names: dict[str, str] | None = None, skip: frozenset[str] | set[str] = frozenset()
) -> dict[str, object]:
    """The dataclass fields that were set (`name=value`, or the variable `names` gives a field),
    numbers checked."""
    values: dict[str, object] = {}
    for f in fields(cls):
        if f.name in skip:
            continue
        name = (names or {}).get(f.name, f.name)
        raw = get(name, None)
        if raw is None:
            continue
        try:
            if f.type in ("int", int):
                values[f.name] = int(raw)
            elif f.type in ("float", float):
                values[f.name] = float(raw)
            else:
                values[f.name] = raw
        except ValueError:
            raise ConfigError(f"{name}={raw}: expected a number") from None
    return values


@dataclass(frozen=True)
class Settings:
    """Resource limits for DuckDB (a runner has 7 GB: France-scale data needs spilling, not luck),
    and the scope of the site (all departments by default)."""

    memory_limit: str = "3GB"
    threads: int = 0  # 0: DuckDB's default (all cores)
    departements: str = ""  # comma-separated department codes to publish; empty: all of France

    @classmethod
    def from_vars(cls, get: Getter) -> Settings:
        settings = cls(**read_vars(cls, get))
        settings.scope()  # validate now: a bad value is one error line, before any task runs
        return settings

    def scope(self) -> frozenset[str]:
        return parse_scope(self.departements)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)
