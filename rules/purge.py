"""Purge from Cloudflare's cache only the URLs whose files changed in the last publish or rollback.

Secrets come from the environment (CF_ZONE, then CF_API_TOKEN, or the legacy CF_EMAIL and
CF_API_KEY); the API base from CF_API_BASE (default Cloudflare's), so tests use a local server.
Calls are batched (30 URLs by default: the Free/Pro/Business limit), retried with backoff on 429
and 5xx, and each reply's `success` is checked. Secrets never appear in messages.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import orjson
import requests

from rules.errors import ImmoStatsError
from rules.files import canonical_json, write_atomic

DEFAULT_API = "https://api.cloudflare.com/client/v4"
Log = Callable[[str], None]


class PurgeError(ImmoStatsError):
    """Cloudflare refused or kept failing; the message never holds a secret."""


@dataclass(frozen=True)
class Cloudflare:
    zone: str
    headers: dict[str, str]
    api: str = DEFAULT_API

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Cloudflare | None:
        """None when not configured: purging is then skipped, and says so."""
        zone = env.get("CF_ZONE")
        if not zone:
            return None
        if env.get("CF_API_TOKEN"):
            headers = {"Authorization": f"Bearer {env['CF_API_TOKEN']}"}
        elif env.get("CF_EMAIL") and env.get("CF_API_KEY"):
            headers = {"X-Auth-Email": env["CF_EMAIL"], "X-Auth-Key": env["CF_API_KEY"]}
        else:
            return None
        return cls(zone, headers, env.get("CF_API_BASE", DEFAULT_API).rstrip("/"))


def urls(site_url: str, paths: list[str]) -> list[str]:
    """The public URLs of changed files; a page is also served at its folder URL (/ville/01053/)."""
    base = site_url.rstrip("/")
    out: list[str] = []
    for path in paths:
        out.append(f"{base}/{path}")
        if path == "index.html":
            out.append(f"{base}/")
        elif path.endswith("/index.html"):
            out.append(f"{base}/{path.removesuffix('index.html')}")
    return sorted(set(out))


def purge(
    purge_file: Path,
    done_file: Path,
    site_url: str,
    cf: Cloudflare | None,
    batch: int = 30,
    retries: int = 4,
    backoff: float = 2.0,
    log: Log = print,
) -> int:
    """Purge the URLs listed by the last publish/rollback, once; returns how many were purged.

    `cf` is None when Cloudflare is not configured (see Cloudflare.from_env)."""
    if cf is None:
        log("CDN purge: not configured (CF_ZONE with CF_API_TOKEN, or CF_EMAIL with CF_API_KEY)")
        return 0
    if not purge_file.exists():
        log("CDN purge: nothing published yet")
        return 0
    todo = orjson.loads(purge_file.read_bytes())
    if done_file.exists() and orjson.loads(done_file.read_bytes()) == todo:
        log(f"CDN purge: {todo['version']} already purged")
        return 0
    targets = urls(site_url, todo["paths"])
    for i in range(0, len(targets), batch):
        _call(cf, targets[i : i + batch], retries, backoff)
    write_atomic(done_file, canonical_json(todo))
    log(f"CDN purge: {len(targets)} URLs of {todo['version']} in {-(-len(targets) // batch)} calls")
    return len(targets)


def _call(cf: Cloudflare, files: list[str], retries: int, backoff: float) -> None:
    url = f"{cf.api}/zones/{cf.zone}/purge_cache"
    delay = backoff
    for attempt in range(1, retries + 1):
        problem, wait = "", None
        try:
            resp = requests.post(url, json={"files": files}, headers=cf.headers, timeout=(10, 60))
        except requests.exceptions.RequestException as e:
            problem = f"connection failed ({type(e).__name__})"
        else:
            if resp.status_code == 429 or resp.status_code >= 500:
                problem = f"HTTP {resp.status_code}"
                after = resp.headers.get("Retry-After", "")
                wait = min(float(after), 60.0) if after.isdigit() else None
            else:
                _check_reply(resp)
                return
        if attempt == retries:
            raise PurgeError(f"CDN purge failed: {problem} (gave up after {attempt} attempts)")
        time.sleep(wait if wait is not None else delay)
        delay *= 2


def _check_reply(resp: requests.Response) -> None:
    try:
        body = resp.json()
    except ValueError:
        raise PurgeError(f"CDN purge: HTTP {resp.status_code}, not a Cloudflare API reply") from None
    if resp.status_code != 200 or not body.get("success"):
        errors = (
            "; ".join(f"{e.get('code')}: {e.get('message')}" for e in body.get("errors") or []) or "no detail"
        )
        raise PurgeError(f"CDN purge refused (HTTP {resp.status_code}): {errors}")
