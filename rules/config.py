"""Every setting of a run, read and validated in one place, before any task runs.

A setting is `name=value` on the command line or `IMMOSTATS_NAME` in the environment (see
`settings.environment_fallback`). Each group is a dataclass owned by the module that uses it
(its fields, types and bounds are the documentation); this module reads them all, refuses a
name that none of them declares, and hands dodo.py one object. README's "Settings" section
lists every name (a test checks it).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rules import datagouv, gate, notify, publishing, purge
from rules.method import Method
from rules.paths import ROOT, SAMPLE_SOURCE, Paths
from rules.settings import Getter, Settings, check_settings, names_of, read_vars

REMOTE_NAMES = {"api": "datagouv_api"}
PLAIN = {"build_dir": "build", "site_dir": "site", "source": str(SAMPLE_SOURCE), "repo": str(ROOT)}
DATAGOUV = "datagouv"  # source=datagouv: follow DVF on data.gouv.fr


def known_names() -> set[str]:
    """Every setting a run reads."""
    return {
        *PLAIN,
        *names_of(Settings, Method, gate.Limits, publishing.Publishing, notify.Outcome),
        *names_of(datagouv.Remote, renamed=REMOTE_NAMES),
        *names_of(purge.PurgeSettings, renamed=purge.PurgeSettings.NAMES),
    }


@dataclass(frozen=True)
class Config:
    """One run's settings, grouped by the module that uses them."""

    paths: Paths
    source: str
    settings: Settings
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
    """Where the build lives: needed first (dodo takes the build lock before reading the rest)."""
    return Paths.of(
        var("build_dir", PLAIN["build_dir"]) or "build", var("site_dir", PLAIN["site_dir"]) or "site"
    )


def load(var: Getter, argv: list[str]) -> Config:
    """Read every setting; raises ConfigError (one line) on an unknown name or a bad value."""
    check_settings(argv, known_names())
    return Config(
        paths=paths(var),
        source=var("source", None) or PLAIN["source"],
        settings=Settings.from_vars(var),
        method=Method.from_vars(var),
        limits=gate.Limits(**read_vars(gate.Limits, var)),
        remote=datagouv.Remote(**read_vars(datagouv.Remote, var, names=REMOTE_NAMES)),
        publishing=publishing.Publishing(
            repo=Path(var("repo", None) or PLAIN["repo"]).resolve(),
            **read_vars(publishing.Publishing, var, skip={"repo"}),
        ),
        purge=purge.PurgeSettings(**read_vars(purge.PurgeSettings, var, names=purge.PurgeSettings.NAMES)),
        outcome=notify.Outcome(**read_vars(notify.Outcome, var)),
    )
