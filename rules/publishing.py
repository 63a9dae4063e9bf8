"""Where published versions and the history live in git, and how they reach the remote.

Refs, all in the project's repository (or `repo=`):

- `refs/heads/<deploy_branch>` (default `gh-pages`): what is online. Each commit's tree is the
  site plus `version.json` (the record of every version) and `api/profile.json` (what the quality
  gate compares the next release with); its first parent is the previous deploy commit.
- `refs/heads/backup/<version>`: the deploy commit of each published version (rollback targets).
- `refs/heads/<history_branch>` (default `dvf-history`): the store as Parquet partitions.
- `refs/heads/<history_branch>-next-root`: the root the history branch starts at when the next
  publish cuts it (retention): held by the remote beforehand, so that push sends only what changed.
- `refs/notes/immostats-purged`: a note on each deploy commit whose changes the CDN purged.

With `push=1` the remote is the truth: every command first fetches it, a version exists once the
remote took it, and local refs only mirror it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from rules.errors import ConfigError
from rules.paths import RECORD_COPY, ROOT
from rules.settings import setting

BACKUP_PREFIX = "backup/"
NOTES_REF = "refs/notes/immostats-purged"
_BRANCH = re.compile(r"(?!.*\.\.)(?!.*//)(?!.*@\{)[A-Za-z0-9][A-Za-z0-9._/-]{0,99}(?<![./])")


@dataclass(frozen=True)
class Publishing:
    """Settings: repo=, deploy_branch=, history_branch=, push=, remote=, keep_versions=, keep_history=,
    github_repo=."""

    repo: Path = setting(
        ROOT, "the git repository of the published versions and the history", shown="this repository"
    )
    deploy_branch: str = setting("gh-pages", "the branch of the site online")
    history_branch: str = setting("dvf-history", "the branch of the history (the store as Parquet)")
    push: bool = setting(False, "publish, rollback and purge push to `remote` (`push=1`)")
    remote: str = setting("origin", "the remote pushed to and read from")
    keep_versions: int = setting(8, "backup branches kept; the deploy branch starts at the oldest")
    keep_history: int = setting(2, "commits kept on the history branch (its tip holds every year)")
    github_repo: str = setting("", '`owner/name`, for the dashboard\'s "force update" link')

    def __post_init__(self) -> None:
        for name in ("deploy_branch", "history_branch"):
            value = getattr(self, name)
            if not _BRANCH.fullmatch(value) or value.endswith(".lock") or value.startswith(BACKUP_PREFIX):
                raise ConfigError(f"{name}={value}: not a usable branch name")
            if value == BACKUP_PREFIX.rstrip("/"):  # refs/heads/backup/<version> could not exist beside it
                raise ConfigError(f"{name}={value}: publish keeps its versions under {BACKUP_PREFIX}")
        if self.deploy_branch == self.history_branch:
            raise ConfigError(f"deploy_branch and history_branch are both {self.deploy_branch}")
        self._refuse_clashes()
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}", self.remote):
            raise ConfigError(f"remote={self.remote}: not a remote name")
        if self.keep_versions < 2:
            raise ConfigError(f"keep_versions={self.keep_versions}: keep at least 2 (current and previous)")
        if self.keep_history < 1:
            raise ConfigError(f"keep_history={self.keep_history}: keep at least 1 (the tip holds every year)")

    def _refuse_clashes(self) -> None:
        """The branches publish writes must be refs git can hold together: not the history's next
        root (`<history_branch>-next-root`), and not one inside the other's name (`site`, `site/old`)."""
        root = self.next_root_branch
        if self.deploy_branch == root:
            raise ConfigError(
                f"deploy_branch={root}: publish keeps the next root of history_branch={self.history_branch} "
                "there: choose another"
            )
        named = {"deploy_branch": self.deploy_branch, "history_branch": self.history_branch}
        shown = {**{v: f"{k}={v}" for k, v in named.items()}, root: f"{root}, history_branch's next root"}
        for name, value in named.items():
            for other, label in shown.items():
                if value.startswith(other + "/"):
                    raise ConfigError(
                        f"{name}={value}: git cannot hold this branch beside {label}: choose another"
                    )

    @property
    def record_file(self) -> Path:
        """versions/version.json: a copy of the online record, for people and notifications."""
        return self.repo / RECORD_COPY

    def branch(self, name: str) -> str:
        return f"refs/heads/{name}"

    def tracking(self, name: str) -> str:
        """The remote-tracking ref of a branch (what `actions/checkout` and fetch leave)."""
        return f"refs/remotes/{self.remote}/{name}"

    def tracking_of(self, ref: str) -> str:
        """Where fetch keeps the remote's copy of a ref: branches and notes alike."""
        if ref.startswith("refs/heads/"):
            return self.tracking(ref.removeprefix("refs/heads/"))
        return f"refs/remotes/{self.remote}/" + ref.removeprefix("refs/")

    @property
    def deploy_ref(self) -> str:
        return self.branch(self.deploy_branch)

    @property
    def history_ref(self) -> str:
        return self.branch(self.history_branch)

    @property
    def next_root_branch(self) -> str:
        """The root the history branch will start at when the next publish prunes it (retention)."""
        return f"{self.history_branch}-next-root"

    @property
    def next_root_ref(self) -> str:
        return self.branch(self.next_root_branch)

    def backup_ref(self, version: str) -> str:
        return self.branch(BACKUP_PREFIX + version)
