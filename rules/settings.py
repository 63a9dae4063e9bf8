"""Build settings that change outputs or resources, declared to doit with `config_changed`.

Each can be set on the command line (`doit memory_limit=2GB`); `Settings.from_vars` reads them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, fields

from rules.errors import ConfigError
from rules.places import parse_scope

Getter = Callable[[str, str | None], str | None]


def read_vars(cls: type, get: Getter) -> dict[str, object]:
    """The dataclass fields given on the command line (`name=value`), whole numbers checked."""
    values: dict[str, object] = {}
    for f in fields(cls):
        raw = get(f.name, None)
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
            raise ConfigError(f"{f.name}={raw}: expected a number") from None
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
