"""Every path the build reads or writes, derived from `build_dir` and `site_dir`.

Tests and users point a whole build elsewhere with `doit build_dir=... site_dir=...`;
nothing else in the code builds paths by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_SOURCE = ROOT / "tests" / "data" / "sample"
TEMPLATES = ROOT / "templates"
WORKFLOW = ROOT / ".github" / "workflows" / "update-data.yml"
HISTORY_MANIFEST = "manifest.json"


@dataclass(frozen=True)
class Paths:
    """Locations of one build: `build` holds intermediates, `site` the published output."""

    build: Path
    site: Path

    @classmethod
    def of(cls, build: str | Path, site: str | Path) -> Paths:
        return cls(Path(build).resolve(), Path(site).resolve())

    @property
    def db(self) -> Path:
        return self.build / "dvf.duckdb"

    @property
    def store_manifest(self) -> Path:
        """What the store holds (sources, rows): changes only when the data does."""
        return self.build / "store.json"

    @property
    def doit_db(self) -> Path:
        return self.build / ".doit.sqlite3"

    @property
    def tmp(self) -> Path:
        return self.build / "tmp"

    @property
    def changes(self) -> Path:
        """Which places the last statistics run changed: for versions, purge and notifications."""
        return self.build / "changes.json"

    @property
    def data_manifest(self) -> Path:
        """sha256 of every per-place JSON file, by path under site/."""
        return self.build / "data-manifest.json"

    @property
    def release(self) -> Path:
        """The DVF data behind the site and the method: what site-wide pages state."""
        return self.build / "release.json"

    @property
    def site_config(self) -> Path:
        """Public URL, scope and asset names: an input of every page."""
        return self.build / "site.json"

    @property
    def raw(self) -> Path:
        """Downloaded DVF files (kept by `doit clean`)."""
        return self.build / "raw"

    @property
    def datagouv_release(self) -> Path:
        """The release data.gouv.fr describes now: changes only when a release does."""
        return self.build / "datagouv.json"

    @property
    def datagouv_imported(self) -> Path:
        """The release as of the last successful import: what `check` compares with."""
        return self.build / "datagouv-imported.json"

    @property
    def downloads(self) -> Path:
        """The files held in build/raw/ and where they came from."""
        return self.build / "downloads.json"

    @property
    def lock(self) -> Path:
        """Held (flock) by every doit that writes build/ or site/, for its whole run."""
        return self.build / "lock"

    @property
    def history(self) -> Path:
        """The store as Parquet partitions: what the history branch in git holds."""
        return self.build / "history"

    @property
    def history_manifest(self) -> Path:
        return self.history / HISTORY_MANIFEST

    @property
    def history_index(self) -> Path:
        """git's private index for build/history/ (its stat cache makes the next commit cheap)."""
        return self.build / "history.index"

    @property
    def publish_index(self) -> Path:
        """git's private index for site/ (its stat cache makes the next snapshot cheap)."""
        return self.build / "publish.index"

    @property
    def scratch_index(self) -> Path:
        """git's throwaway index for a tree that adds the version's own files to the site's."""
        return self.build / "scratch.index"

    @property
    def profile(self) -> Path:
        """What the quality gate measured on this build; published with it as api/profile.json."""
        return self.build / "profile.json"

    @property
    def gate_result(self) -> Path:
        return self.build / "gate.json"

    def site_file(self, relative: str) -> Path:
        return self.site / relative
