"""Every path the build reads or writes: the project's own files, and those of one build derived
from `build_dir` and `site_dir`.

Tests and users point a whole build elsewhere with `doit build_dir=... site_dir=...`; nothing
else in the code builds paths by hand. Files of the site are also named relative to `site/`
(constants below), the way git trees, URLs and the purge see them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "rules"
SQL = RULES / "sql"
REFERENCE = RULES / "reference"
GIT_ATTRIBUTES = RULES / "gitattributes"  # for the push (GitRepo.push)
SAMPLE_SOURCE = ROOT / "tests" / "data" / "sample"
TEMPLATES = ROOT / "templates"
ASSETS = TEMPLATES / "assets"
WORKFLOW = ROOT / ".github" / "workflows" / "update-data.yml"
RECORD_COPY = Path("versions") / "version.json"  # in the repository: a copy of the online record

# Under build/history/ (and on the history branch).
HISTORY_MANIFEST = "manifest.json"
HISTORY_ROWS = "rows"
HISTORY_UPDATE_LOG = "update_log.parquet"

# Under site/ (and in the deploy branch's trees).
RECORD = "version.json"  # the record of every version: written by publish
PROFILE = "api/profile.json"  # what the quality gate measured: written by publish
HEALTH = "api/health.json"
ADMIN = "admin/index.html"
SEARCH_INDEX = "data/recherche.json"
SUMMARY = "data/resume.json"  # headline figures of every department, region and France: the comparison
SCHEMA = "data/schema.json"  # the per-place JSON's shape, for reusers of /data/
ROBOTS = "robots.txt"
HEADERS = "_headers"
NOJEKYLL = ".nojekyll"
SITEMAP = "sitemap.xml"
ASSETS_DIR = "assets"
DATA_DIRS = {"commune": "data/villes", "departement": "data/departements", "region": "data/regions"}
FRANCE_DATA = "data/france.json"
PAGE_DIRS = {"commune": "ville", "departement": "departement", "region": "region"}


def sitemap_part(i: int | str) -> str:
    return f"sitemap-{i}.xml"


def wal(db: Path) -> Path:
    """A DuckDB file's write-ahead log: what it holds is not in the file until a checkpoint."""
    return db.with_name(db.name + ".wal")


def data_file(level: str, code: str) -> str:
    """A place's JSON under site/ (data/villes/<code>.json, ..., data/france.json)."""
    folder = DATA_DIRS.get(level)
    return f"{folder}/{code}.json" if folder else FRANCE_DATA


def page_file(level: str, code: str) -> str:
    """A place's page under site/ (ville/<code>/index.html, ..., index.html)."""
    folder = PAGE_DIRS.get(level)
    return f"{folder}/{code}/index.html" if folder else "index.html"


def page_url(level: str, code: str) -> str:
    folder = PAGE_DIRS.get(level)
    return f"/{folder}/{code}/" if folder else "/"


def history_partition(name: str) -> str:
    """A partition's file under build/history/ (rows/2021-1-01.parquet)."""
    return f"{HISTORY_ROWS}/{name}.parquet"


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
    def db_work(self) -> Path:
        """The copy of the store a batch of several files is imported into (rules/store.py), which
        replaces the store when every file is in; in build/tmp/, so a killed run's goes."""
        return self.tmp / "dvf-import.duckdb"

    @property
    def store_manifest(self) -> Path:
        """What the store holds (sources, rows): changes only when the data does."""
        return self.build / "store.json"

    @property
    def imports(self) -> Path:
        """The last import attempts, failed ones included: changes whenever update_log does, so
        what reports on imports (health) reruns after a failure too."""
        return self.build / "imports.json"

    @property
    def source_hashes(self) -> Path:
        """The source files' sha256, by stat (rules.files.HashCache): not rehashed every import."""
        return self.build / "source-hashes.json"

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
    def unpublished(self) -> Path:
        """The pages of places with no published figure: left out of the sitemap, not indexed."""
        return self.build / "unpublished.json"

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
    def history_rows(self) -> Path:
        return self.history / HISTORY_ROWS

    @property
    def history_update_log(self) -> Path:
        return self.history / HISTORY_UPDATE_LOG

    @property
    def duckdb_tmp(self) -> Path:
        """Where DuckDB spills beyond memory_limit."""
        return self.tmp / "duckdb"

    @property
    def places_cache(self) -> Path:
        """The places of the last scope, read back by the next `doit` (rules/places.remembered)."""
        return self.build / "places.json"

    @property
    def template_refs(self) -> Path:
        """What each template references (extends, include, import), with its size and mtime."""
        return self.build / "template-refs.json"

    @property
    def map_geometries(self) -> Path:
        """The maps' shapes, fitted once and named by what they are made from (rules/maps.py)."""
        return self.build / "map-geometries"

    def fingerprint(self, template: str) -> Path:
        """One content hash standing for everything a template's pages depend on besides data."""
        return self.build / "fingerprints" / f"{template}.sha256"

    @property
    def history_index(self) -> Path:
        """git's private index for build/history/ (its stat cache makes the next commit cheap)."""
        return self.build / "history.index"

    @property
    def publish_index(self) -> Path:
        """git's private index for site/ but its commune pages (its stat cache makes the next
        snapshot cheap)."""
        return self.build / "publish.index"

    def publish_pages_index(self, half: int) -> Path:
        """git's private indexes for site/'s commune pages, in two halves (rules/versions.py)."""
        return self.build / f"publish-pages-{half}.index"

    @property
    def profile(self) -> Path:
        """What the quality gate measured on this build; published with it as api/profile.json."""
        return self.build / "profile.json"

    @property
    def gate_result(self) -> Path:
        return self.build / "gate.json"

    def site_file(self, relative: str) -> Path:
        return self.site / relative

    def site_name(self, relative: str) -> str:
        """The same as a string: doit declares 70,000 of these on every run, and building Path
        objects for them costs a second of each no-change `doit`."""
        return f"{self.site}/{relative}"
