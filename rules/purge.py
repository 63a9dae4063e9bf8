"""Purge from Cloudflare's cache only the URLs whose files changed online since the last purge.

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
from datetime import UTC, datetime
from typing import Any, ClassVar

from rules import http, versions
from rules.errors import ImmoStatsError
from rules.gitrepo import GitError, RefUpdate
from rules.lazy import requests
from rules.paths import RECORD
from rules.publishing import NOTES_REF, Publishing
from rules.settings import setting

DEFAULT_API = "https://api.cloudflare.com/client/v4"
Log = Callable[[str], None]


class PurgeError(ImmoStatsError):
    """Cloudflare refused or kept failing; the message never holds a secret."""


@dataclass(frozen=True)
class PurgeSettings:
    """Settings: purge_batch= (URLs per call: 30 on Free/Pro/Business plans), purge_wait= (seconds
    to wait for the host to serve the new version first)."""

    batch: int = setting(30, "URLs per Cloudflare purge call", low=1, high=500)
    wait: float = setting(600.0, "seconds to wait for the host to serve the new version", low=0, high=86400)

    NAMES: ClassVar[dict[str, str]] = {"batch": "purge_batch", "wait": "purge_wait"}


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
    pub: Publishing,
    site_url: str,
    cf: Cloudflare | None,
    batch: int = 30,
    retries: int = 4,
    backoff: float = 2.0,
    log: Log = print,
    wait: float = 0.0,
) -> int:
    """Purge every URL that changed online since the last purge; returns how many were purged.

    What changed is read from git, not from build/: the files that differ between the deploy
    commit last purged (marked with a note, pushed with push=1) and the one online now, so a lost
    cache, a failed purge or a publish nobody purged never leaves stale pages in the CDN. The very
    first purge of a site, with nothing marked, purges everything. `cf` is None when Cloudflare is
    not configured (see Cloudflare.from_env).

    A pushed branch is not online yet: GitHub Pages deploys it a minute or so later, and a purge
    before that lets the CDN fetch the old pages again. So, with `wait` > 0, the purge first waits
    (up to `wait` seconds) until the host serves the version online (`version.json`)."""
    if cf is None:
        log("CDN purge: not configured (CF_ZONE with CF_API_TOKEN, or CF_EMAIL with CF_API_KEY)")
        return 0
    repo = versions.open_repo(pub)
    online = versions.sync(repo, pub)
    if online.deploy is None:
        log("CDN purge: nothing published yet")
        return 0
    marked = repo.annotated(NOTES_REF)
    last = next((c for c in repo.first_parents(online.deploy) if c in marked), None)
    record = versions.read_record_at(repo, online.deploy) or {}
    current = record.get("current") or online.deploy[:10]
    if last == online.deploy:
        log(f"CDN purge: {current} already purged")
        return 0
    if wait > 0:
        wait_until_served(site_url, record.get("current"), wait, log)
    if last is None:
        _call(cf, {"purge_everything": True}, retries, backoff)
        count, what = -1, "everything (no earlier purge recorded)"
    else:
        targets = urls(site_url, [c.path for c in repo.diff(last, online.deploy)])
        for i in range(0, len(targets), batch):
            _call(cf, {"files": targets[i : i + batch]}, retries, backoff)
        count, what = len(targets), f"{len(targets)} URLs in {-(-len(targets) // batch)} calls"
    notes = repo.note(online.notes, online.deploy, message=f"purged {datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ}")
    try:
        versions.apply(repo, pub, [RefUpdate(NOTES_REF, notes, online.notes)])
    except GitError as e:  # purged all the same: the next purge repeats these URLs, nothing is missed
        log(f"warning: the purge of {current} is done but could not be recorded: {e}")
    log(f"CDN purge: {what}, up to {current}")
    return count


def wait_until_served(site_url: str, version: str | None, timeout: float, log: Log) -> None:
    """Poll the host's version.json, past any cache (a query string the CDN has never seen), until
    it names `version`: about 60 tries within `timeout`, at most one every 5 s."""
    url = f"{site_url.rstrip('/')}/{RECORD}"
    every = min(5.0, max(0.1, timeout / 60))
    started = time.monotonic()
    client = http.Client(connect_timeout=10, read_timeout=30, attempts=1)
    while True:
        try:
            doc = http.get_json(client, f"{url}?v={version}.{time.time_ns()}")
            served = doc.get("current") if isinstance(doc, dict) else "something else than a record"
        except http.HttpError as e:
            served = e.problem
        if served == version:
            if time.monotonic() - started > every:
                log(f"CDN purge: {url} serves {version} after {time.monotonic() - started:.0f} s")
            return
        if time.monotonic() - started > timeout:
            raise PurgeError(
                f"CDN purge: {url} still serves {served} after {timeout:g} s, not {version}; "
                "nothing purged (the next purge covers it; purge_wait=0 does not wait)"
            )
        time.sleep(every)


def _call(cf: Cloudflare, body: dict, retries: int, backoff: float) -> None:
    """One purge call: retried on 429 and 5xx (Retry-After honoured), never redirected (the
    credentials go to the API's host only)."""
    client = http.Client(connect_timeout=10, read_timeout=60, attempts=retries, backoff=backoff)
    try:
        resp = http.post_json(client, f"{cf.api}/zones/{cf.zone}/purge_cache", body, cf.headers)
    except http.HttpError as e:
        raise PurgeError(f"CDN purge failed: {e.problem}") from None
    if resp.status_code in http.RETRY_STATUSES:
        raise PurgeError(f"CDN purge failed: {client.status_failure(resp.url, resp).problem}")
    _check_reply(resp)


def cloudflare_errors(reply: Any) -> str:
    """The `errors` of a Cloudflare API reply, in one phrase ("1012: Request must contain files")."""
    listed = reply.get("errors") if isinstance(reply, dict) else None
    shown = [f"{e.get('code')}: {e.get('message')}" for e in listed or [] if isinstance(e, dict)]
    return "; ".join(shown) or "no detail"


def _check_reply(resp: requests.Response) -> None:
    try:
        body = resp.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise PurgeError(f"CDN purge: HTTP {resp.status_code}, not a Cloudflare API reply")
    if resp.status_code != 200 or body.get("success") is not True:
        errors = cloudflare_errors(body)
        raise PurgeError(f"CDN purge refused (HTTP {resp.status_code}): {errors}")
