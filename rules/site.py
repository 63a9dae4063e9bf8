"""Site-wide configuration and static assets (CSS, JS) named by content hash.

Assets are minified with rcssmin / rjsmin and written as `assets/app.<hash>.css`, so they can
be cached for a year. `build/site.json` holds the public URL, the scope, the asset names and the
legal notice's settings:
every page depends on it, and it changes only when one of those does.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

import orjson
import rcssmin
import rjsmin

from rules.errors import ConfigError
from rules.files import canonical_json, write_if_changed
from rules.paths import ASSETS, ASSETS_DIR, Paths
from rules.settings import Getter, read_vars, setting

ASSET_SOURCES = {name: ASSETS / name for name in ("app.css", "app.js", "favicon.svg")}
DEFAULT_URL = "https://immostats.example"


_EMAIL = re.compile(r"[^@\s<>\"'/:]+@[^@\s<>\"'/:]+\.[a-zA-Z]{2,}")


def _web_url(text: str) -> bool:
    """An http(s) URL with a host: a contact form's may carry a query, which settings.check_url
    refuses (the URLs it checks are ones the build appends paths to)."""
    parts = urlsplit(text)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


@dataclass(frozen=True)
class Legal:
    """Who publishes the site, for the legal notice (LCEN: the publisher, the director
    of publication, the host, a contact). Empty on the demo site; `doit publish` refuses a
    public site_url while one is missing."""

    publisher: str = setting("", "the legal notice: who publishes the site (a person or an organisation)")
    director: str = setting("", "the legal notice: the director of publication")
    host: str = setting("", "the legal notice: the host's name, address and telephone number")
    contact: str = setting("", "the legal notice: an e-mail address or a form URL to reach the publisher")

    @classmethod
    def from_vars(cls, get: Getter) -> Legal:
        """The legal notice's settings; a contact the notice cannot link to is refused."""
        legal = cls(**read_vars(cls, get))
        contact = legal.contact.strip()
        if contact and not (_EMAIL.fullmatch(contact) or _web_url(contact)):
            raise ConfigError(
                f"contact={legal.contact}: expected an e-mail address (name@example.org) or an http(s) URL"
            )
        return legal

    def as_dict(self) -> dict[str, str]:
        return asdict(self)

    def check(self, url: str) -> None:
        """Refuse to put a public site online with an incomplete legal notice."""
        missing = [f"{name}=" for name, value in self.as_dict().items() if not value.strip()]
        if missing and url.rstrip("/") != DEFAULT_URL:
            raise ConfigError(
                f"site_url={url}: the legal notice needs {', '.join(missing)} (LCEN) before publishing"
            )


@dataclass(frozen=True)
class SiteConfig:
    """What every page needs besides its own data."""

    url: str
    scope: frozenset[str]
    assets: dict[str, str]
    legal: dict[str, str]

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
        stem, ext = name.rsplit(".", 1)
        data = {"css": rcssmin.cssmin, "js": rjsmin.jsmin}.get(ext, str.strip)(text).encode("utf-8")
        out[name] = (f"assets/{stem}.{hashlib.sha256(data).hexdigest()[:12]}.{ext}", data)
    return out


def asset_files(paths: Paths) -> list[Path]:
    return [paths.site_file(relative) for relative, _ in assets().values()]


def build_assets(paths: Paths, url: str, scope: frozenset[str], legal: Legal) -> None:
    """Write the hashed assets, remove stale hashed copies, write build/site.json."""
    names: dict[str, str] = {}
    for name, (relative, data) in assets().items():
        write_if_changed(paths.site_file(relative), data)
        names[name] = relative
    keep = {Path(v).name for v in names.values()}
    for stale in paths.site_file(ASSETS_DIR).glob("*.*"):
        if stale.name not in keep:
            stale.unlink()
    config = {"url": url.rstrip("/"), "scope": sorted(scope), "assets": names, "legal": legal.as_dict()}
    write_if_changed(paths.site_config, canonical_json(config))


@cache
def load(path: Path) -> SiteConfig:
    """Read build/site.json once per process (it is written before any page renders)."""
    data = orjson.loads(path.read_bytes())
    return SiteConfig(data["url"], frozenset(data["scope"]), data["assets"], data["legal"])
