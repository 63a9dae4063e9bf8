"""Site-wide configuration and static assets (CSS, JS) named by content hash.

Assets are minified with rcssmin / rjsmin and written as `assets/app.<hash>.css`, so they can
be cached for a year. `build/site.json` holds the public URL, the scope and the asset names:
every page depends on it, and it changes only when one of those does.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import orjson
import rcssmin
import rjsmin

from rules.files import canonical_json, write_if_changed
from rules.paths import ASSETS, ASSETS_DIR, Paths

ASSET_SOURCES = {"app.css": ASSETS / "app.css", "app.js": ASSETS / "app.js"}
DEFAULT_URL = "https://immostats.example"


@dataclass(frozen=True)
class SiteConfig:
    """What every page needs besides its own data."""

    url: str
    scope: frozenset[str]
    assets: dict[str, str]

    def asset(self, name: str) -> str:
        return "/" + self.assets[name]


@cache
def assets() -> dict[str, tuple[str, bytes]]:
    """{source name: (path under site/, minified bytes)}, named by content hash. Computed when
    dodo.py loads (two small files), so every asset is a declared target: a site/ emptied, or an
    asset deleted, is rebuilt complete."""
    out = {}
    for name, src in ASSET_SOURCES.items():
        text = src.read_text("utf-8")
        data = (rcssmin.cssmin(text) if name.endswith(".css") else rjsmin.jsmin(text)).encode("utf-8")
        stem, ext = name.rsplit(".", 1)
        out[name] = (f"assets/{stem}.{hashlib.sha256(data).hexdigest()[:12]}.{ext}", data)
    return out


def asset_files(paths: Paths) -> list[Path]:
    return [paths.site_file(relative) for relative, _ in assets().values()]


def build_assets(paths: Paths, url: str, scope: frozenset[str]) -> None:
    """Write the hashed assets, remove stale hashed copies, write build/site.json."""
    names: dict[str, str] = {}
    for name, (relative, data) in assets().items():
        write_if_changed(paths.site_file(relative), data)
        names[name] = relative
    keep = {Path(v).name for v in names.values()}
    for stale in paths.site_file(ASSETS_DIR).glob("app.*"):
        if stale.name not in keep:
            stale.unlink()
    config = {"url": url.rstrip("/"), "scope": sorted(scope), "assets": names}
    write_if_changed(paths.site_config, canonical_json(config))


@cache
def load(path: Path) -> SiteConfig:
    """Read build/site.json once per process (it is written before any page renders)."""
    data = orjson.loads(path.read_bytes())
    return SiteConfig(data["url"], frozenset(data["scope"]), data["assets"])
