"""Build settings that change outputs or resources, declared to doit with `config_changed`.

Each can be set on the command line (`doit memory_limit=2GB`); `Settings.from_vars` reads them.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import MISSING, asdict, dataclass, field, fields
from typing import Any
from urllib.parse import urlsplit

from rules.errors import ConfigError
from rules.places import parse_scope

Getter = Callable[[str, str | None], str | None]


def environment_fallback(get: Getter) -> Getter:
    """`name=value` from the command line, else `IMMOSTATS_NAME` from the environment (how the
    workflow passes repository variables; an empty value counts as unset), else the default."""

    def var(name: str, default: str | None = None) -> str | None:
        value = get(name, None)
        if value is None:
            value = os.environ.get(f"{ENV_PREFIX}{name.upper()}") or None
        return default if value is None else value

    return var


def read_vars(
    cls: type,
    get: Getter,
    names: Mapping[str, str] | None = None,
    skip: frozenset[str] | set[str] = frozenset(),
) -> dict[str, Any]:
    """The dataclass fields that were set (`name=value`, or the variable `names` gives a field),
    parsed to the field's type and checked against its bounds (`field(metadata=at_least(1))`)."""
    values: dict[str, Any] = {}  # each value parsed to its field's type
    for f in fields(cls):
        if f.name in skip:
            continue
        name = (names or {}).get(f.name, f.name)
        raw = get(name, None)
        if raw is None:
            continue
        values[f.name] = _parse(name, raw, f.type, f.metadata)
    return values


def _parse(name: str, raw: str, kind: object, rules: Mapping[str, object]) -> object:
    if kind in ("bool", bool):
        word = raw.strip().lower()
        if word not in _BOOLEANS:
            raise ConfigError(f"{name}={raw}: expected 1 or 0 (yes/no, true/false)")
        return _BOOLEANS[word]
    if kind in ("int", int, "float", float):
        try:
            value: float = int(raw) if kind in ("int", int) else float(raw)
        except ValueError:
            expected = "a whole number" if kind in ("int", int) else "a number"
            raise ConfigError(f"{name}={raw}: expected {expected}") from None
        low, high = rules.get("min"), rules.get("max")
        if value != value or value in (float("inf"), float("-inf")):
            raise ConfigError(f"{name}={raw}: expected a finite number")
        if isinstance(low, int | float) and value < low:
            raise ConfigError(f"{name}={raw}: must be at least {low}")
        if isinstance(high, int | float) and value > high:
            raise ConfigError(f"{name}={raw}: must be at most {high}")
        return value
    pattern = rules.get("pattern")
    if isinstance(pattern, str) and not re.fullmatch(pattern, raw.strip()):
        raise ConfigError(f"{name}={raw}: {rules.get('expected', 'not a valid value')}")
    if rules.get("url"):
        check_url(name, raw)
    return raw


_BOOLEANS = {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False}


def setting(
    default: Any,
    doc: str,
    *,
    low: float | None = None,
    high: float | None = None,
    pattern: str | None = None,
    expected: str = "not a valid value",
    url: bool = False,
    shown: str | None = None,
) -> Any:
    """A dataclass field that is a setting: its default, what it is (README's Settings table is
    made from these, `python -m rules.config`), and how its value is checked: a number's range, a
    text's pattern, or an http(s) URL. `shown` is the default as people should read it."""
    rules = {"doc": doc, "min": low, "max": high, "pattern": pattern, "expected": expected, "url": url}
    return field(default=default, metadata={**rules, "shown": shown})


def check_url(name: str, value: str) -> str:
    """An absolute http(s) URL with a host: canonical links, APIs and purges are built on it."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ConfigError(f"{name}={value}: expected an absolute http(s) URL such as https://example.org")
    return value


def check_settings(argv: list[str], known: Iterable[str], environ: Mapping[str, str] = os.environ) -> None:
    """A setting nobody reads is a typo (`doit sourc=x`, `IMMOSTATS_DEPARTMENTS=01`): one line
    naming it and the closest known name, instead of a build that silently ignores it."""
    names = sorted(set(known))
    given = [(a.split("=", 1)[0], "") for a in argv if re.match(r"[A-Za-z_][A-Za-z0-9_]*=", a)]
    given += [
        (k.removeprefix(ENV_PREFIX).lower(), f" (environment variable {k})")
        for k, v in sorted(environ.items())
        if k.startswith(ENV_PREFIX) and v
    ]
    for name, origin in given:
        if name not in names:
            close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
            hint = f"did you mean {close[0]}?" if close else "README's Settings section lists them all"
            raise ConfigError(f"unknown setting {name}{origin}: {hint}")


ENV_PREFIX = "IMMOSTATS_"
_UNITS = {"B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12}  # as DuckDB reads them
_UNITS |= {"KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40}
MEMORY = rf"(\d+(?:\.\d+)?)\s*({'|'.join(_UNITS)})"
MEMORY_EXPECTED = "expected a size such as 3GB or 500MB"
MEMORY_FLOOR = "100MB"  # the sample builds under 64MB; under 32MB DuckDB cannot import it


def memory_bytes(size: str) -> float:
    """A size as DuckDB reads it (a MEMORY text: KB is 1,000 bytes, KiB 1,024), in bytes."""
    m = re.fullmatch(MEMORY, size.strip())
    if m is None:  # memory_limit was checked against MEMORY
        raise ConfigError(f"memory_limit={size}: {MEMORY_EXPECTED}")
    return float(m.group(1)) * _UNITS[m.group(2)]


def names_of(*classes: type, renamed: Mapping[str, str] | None = None) -> set[str]:
    """Every variable the dataclasses read (`renamed` maps a field to its variable's name)."""
    return {(renamed or {}).get(f.name, f.name) for cls in classes for f in fields(cls)}


def table_rows(cls: type, renamed: Mapping[str, str] | None = None) -> list[str]:
    """README's Settings rows for one group: name, default, what it is."""
    rows = []
    for f in fields(cls):
        name = (renamed or {}).get(f.name, f.name)
        shown = f.metadata.get("shown") or _shown(f.default)
        rows.append(f"| `{name}` | {shown} | {f.metadata.get('doc', '')} |")
    return rows


def _shown(default: object) -> str:
    if default is MISSING or default == "":
        return "none"
    if isinstance(default, bool):
        return f"`{int(default)}`"
    if isinstance(default, float):
        return f"`{default:g}`"
    return f"`{default}`"


@dataclass(frozen=True)
class Settings:
    """Resource limits for DuckDB (a runner has 7 GB: France-scale data needs spilling, not luck),
    and the scope of the site: the departments present in the data by default (all of France with
    source=datagouv), `all`, or a list of codes."""

    departements: str = setting(
        "",
        "`all`, or department codes such as `01,75`; by default the departments in the data (all of "
        "France with `source=datagouv`)",
        shown="the data's",
    )
    site_url: str = setting(
        "https://immostats.example",
        "the public URL, the root of its host (canonical links, sitemap, robots.txt, purge); http(s) only",
        url=True,
    )
    memory_limit: str = setting(
        "2GB",
        "DuckDB's memory bound (`500MB`, `3GB`..., at least 100MB); beyond it DuckDB spills to "
        "`build/tmp/duckdb` (2GB keeps a France build under 3 GB and is no slower on two cores)",
        pattern=MEMORY,
        expected=MEMORY_EXPECTED,
    )
    threads: int = setting(0, "DuckDB's threads; 0: all cores", low=0, high=1024)

    @classmethod
    def from_vars(cls, get: Getter) -> Settings:
        settings = cls(**read_vars(cls, get))
        settings.scope()  # validate now: a bad value is one error line, before any task runs
        if memory_bytes(settings.memory_limit) < memory_bytes(MEMORY_FLOOR):
            raise ConfigError(
                f"memory_limit={settings.memory_limit}: must be at least {MEMORY_FLOOR} (DuckDB cannot "
                "import and compute within less; 2GB builds all of France)"
            )
        if urlsplit(settings.site_url).path.strip("/"):  # the pages link to /assets/..., /ville/...
            raise ConfigError(
                f"site_url={settings.site_url}: the site must be served at the root of its host (its links "
                "start with /): a domain of its own, not a folder such as a GitHub project page"
            )
        return settings

    def scope(self) -> frozenset[str]:
        return parse_scope(self.departements)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)
