"""Every setting of a run, read and validated in one place, before any task runs.

A setting is `name=value` on the command line or `IMMOSTATS_NAME` in the environment (see
`settings.environment_fallback`). Each group is a dataclass owned by the module that uses it
(its fields, types and bounds are the documentation); this module reads them all, refuses a
name that none of them declares, and hands dodo.py one object. README's "Settings" section
lists every name (a test checks it).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from rules import datagouv, gate, notify, publishing, purge, site
from rules.errors import ConfigError
from rules.method import Method
from rules.paths import SAMPLE_SOURCE, Paths
from rules.settings import Getter, Settings, check_settings, names_of, read_vars, setting, table_rows

REMOTE_NAMES = {"api": "datagouv_api"}
DATAGOUV = "datagouv"  # source=datagouv: follow DVF on data.gouv.fr
TABLE_START = "<!-- settings: made by `python -m rules.config`; a test compares -->"
TABLE_END = "<!-- /settings -->"


@dataclass(frozen=True)
class Locations:
    """Where a run reads and writes (read first: dodo takes the build lock before the rest)."""

    source: str = setting(
        str(SAMPLE_SOURCE),
        "a DVF file or folder (raw DGFiP or geo-dvf, plain, zipped or gzipped), or `datagouv`",
        shown="`tests/data/sample`",
    )
    build_dir: str = setting("build", "intermediate files (the store, doit's database, the history)")
    site_dir: str = setting("site", "the site")


def groups() -> list[tuple[type, dict[str, str]]]:
    """Every group of settings, in README's order, with the variables that rename a field."""
    return [
        (Locations, {}),
        (Settings, {}),
        (site.Legal, {}),
        (Method, {}),
        (datagouv.Remote, REMOTE_NAMES),
        (gate.Limits, {}),
        (publishing.Publishing, {}),
        (purge.PurgeSettings, purge.PurgeSettings.NAMES),
        (notify.Outcome, {}),
    ]


def known_names() -> set[str]:
    """Every setting a run reads."""
    return {name for cls, renamed in groups() for name in names_of(cls, renamed=renamed)}


def settings_table() -> str:
    """README's Settings table, from the fields themselves: what is documented is what is read."""
    rows = [row for cls, renamed in groups() for row in table_rows(cls, renamed)]
    return "\n".join(
        [TABLE_START, "| setting | default | what it is |", "| --- | --- | --- |", *rows, TABLE_END]
    )


@dataclass(frozen=True)
class Config:
    """One run's settings, grouped by the module that uses them."""

    paths: Paths
    source: str
    settings: Settings
    legal: site.Legal
    method: Method
    limits: gate.Limits
    remote: datagouv.Remote
    publishing: publishing.Publishing
    purge: purge.PurgeSettings
    outcome: notify.Outcome

    @property
    def follow(self) -> bool:
        """Production: follow data.gouv.fr; otherwise a local DVF file or folder."""
        return self.source == DATAGOUV


def paths(var: Getter) -> Paths:
    """Where the build lives: needed first (dodo takes the build lock before reading the rest).
    The build folder is made here (doit does not create its database's folder); a folder setting
    that names a file, or a place no folder can be made, is one line."""
    where = Locations(**read_vars(Locations, var))
    found = Paths.of(where.build_dir, where.site_dir)
    for name, value, folder in (
        ("build_dir", where.build_dir, found.build),
        ("site_dir", where.site_dir, found.site),
    ):
        _folder_or_none_yet(name, value, folder)
    try:
        found.build.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ConfigError(
            f"build_dir={where.build_dir}: no folder can be made there ({e.strerror})"
        ) from None
    return found


def _folder_or_none_yet(name: str, value: str, folder: Path) -> None:
    """`folder` is a folder this run can write in, or the first of its ancestors that exists is
    one (where the run will make it)."""
    probe = folder
    while not probe.is_dir():
        if os.path.lexists(probe):
            what = "" if probe == folder else f" ({probe} is not a folder)"
            raise ConfigError(f"{name}={value}: not a folder{what}")
        probe = probe.parent
    if not os.access(probe, os.W_OK | os.X_OK):
        raise ConfigError(f"{name}={value}: {probe} is not writable by this user")


def load(var: Getter, argv: list[str]) -> Config:
    """Read every setting; raises ConfigError (one line) on an unknown name or a bad value."""
    check_settings(argv, known_names())
    where = Locations(**read_vars(Locations, var))
    return Config(
        paths=Paths.of(where.build_dir, where.site_dir),
        source=where.source,
        settings=Settings.from_vars(var),
        legal=site.Legal.from_vars(var),
        method=Method.from_vars(var),
        limits=gate.Limits(**read_vars(gate.Limits, var)),
        remote=datagouv.Remote(**read_vars(datagouv.Remote, var, names=REMOTE_NAMES)),
        publishing=publishing.Publishing(
            repo=Path(var("repo", None) or publishing.Publishing.repo).resolve(),
            **read_vars(publishing.Publishing, var, skip={"repo"}),
        ),
        purge=purge.PurgeSettings(**read_vars(purge.PurgeSettings, var, names=purge.PurgeSettings.NAMES)),
        outcome=notify.Outcome(**read_vars(notify.Outcome, var)),
    )


if __name__ == "__main__":
    print(settings_table())
