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
from rules.paths import TEMPLATES, Paths

ASSET_SOURCES = {"app.css": TEMPLATES / "assets" / "app.css", "app.js": TEMPLATES / "assets" / "app.js"}
DEFAULT_URL = "https://immostats.example"


@dataclass(frozen=True)
class SiteConfig:
    """What every page needs besides its own data."""

    url: str
    scope: frozenset[str]
    assets: dict[str, str]

    def asset(self, name: str) -> str:
        return "/" + self.assets[name]


def build_assets(paths: Paths, url: str, scope: frozenset[str]) -> None:
    """Minify and hash the assets, remove stale hashed copies, write build/site.json."""
    out = paths.site / "assets"
    names: dict[str, str] = {}
    for name, src in ASSET_SOURCES.items():
        text = src.read_text("utf-8")
        data = (rcssmin.cssmin(text) if name.endswith(".css") else rjsmin.jsmin(text)).encode("utf-8")
        stem, ext = name.rsplit(".", 1)
        hashed = f"{stem}.{hashlib.sha256(data).hexdigest()[:12]}.{ext}"
        write_if_changed(out / hashed, data)
        names[name] = f"assets/{hashed}"
    keep = {Path(v).name for v in names.values()}
    for stale in out.glob("app.*"):
        if stale.name not in keep:
            stale.unlink()
    config = {"url": url.rstrip("/"), "scope": sorted(scope), "assets": names}
    write_if_changed(paths.site_config, canonical_json(config))


@cache
def load(path: Path) -> SiteConfig:
    """Read build/site.json once per process (it is written before any page renders)."""
    data = orjson.loads(path.read_bytes())
    return SiteConfig(data["url"], frozenset(data["scope"]), data["assets"])
