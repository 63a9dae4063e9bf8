"""`doit cdn-rules` against a Cloudflare Rulesets stand-in on 127.0.0.1: what `_headers` declares
reaches a host that ignores the file, idempotently, keeping the zone's other rules."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from conftest import LocalServer, QuietHandler, run_doit

from rules import cdnrules, http, sitefiles
from rules.paths import Paths
from rules.purge import Cloudflare

SECRET = "cf-token-SECRET"
PATH = f"/zones/zone1/rulesets/phases/{cdnrules.PHASE}/entrypoint"
FOREIGN = {
    "id": "r0",
    "version": "3",
    "description": "someone else's rule",
    "expression": "true",
    "action": "rewrite",
    "action_parameters": {"headers": {"X-Other": {"operation": "remove"}}},
}
QUICK = http.Client(connect_timeout=1, read_timeout=2, attempts=2, backoff=0.01)


class Rulesets:
    """The zone's entry point ruleset of one phase: GET (404 until created) and PUT."""

    def __init__(self) -> None:
        self.rules: list[dict] | None = None
        self.calls: list[tuple[str, str, dict]] = []
        self.refuse = False
        zone = self

        class Handler(QuietHandler):
            def _answer(self, status: int, doc: dict) -> None:
                self.reply(status, orjson.dumps(doc), {"Content-Type": "application/json"})

            def do_GET(self) -> None:  # noqa: N802
                zone.calls.append(("GET", self.path, dict(self.headers)))
                if self.path != PATH or zone.rules is None:
                    return self._answer(
                        404, {"success": False, "errors": [{"code": 10003, "message": "not found"}]}
                    )
                self._answer(200, {"success": True, "result": {"phase": cdnrules.PHASE, "rules": zone.rules}})

            def do_PUT(self) -> None:  # noqa: N802
                body = orjson.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                zone.calls.append(("PUT", self.path, dict(self.headers)))
                if zone.refuse:
                    return self._answer(
                        403,
                        {"success": False, "errors": [{"code": 10000, "message": "Authentication error"}]},
                    )
                zone.rules = [
                    {**r, "id": f"r{i}", "version": "1", "last_updated": "now"}
                    for i, r in enumerate(body["rules"])
                ]
                self._answer(200, {"success": True, "result": {"rules": zone.rules}})

        self.server = LocalServer(Handler)
        self.cf = Cloudflare("zone1", {"Authorization": f"Bearer {SECRET}"}, self.server.url)

    def puts(self) -> int:
        return sum(1 for method, _, _ in self.calls if method == "PUT")


@pytest.fixture
def zone() -> Iterator[Rulesets]:
    z = Rulesets()
    yield z
    z.server.close()


def test_the_headers_file_becomes_transform_rules_once(zone: Rulesets) -> None:
    zone.rules = [FOREIGN]
    lines: list[str] = []
    assert cdnrules.apply(zone.cf, sitefiles.HEADERS, QUICK, log=lines.append) is True
    by_description = {r["description"]: r for r in zone.rules or []}
    assert by_description["someone else's rule"]["expression"] == "true"  # kept
    data = by_description["immostats: /data/*"]
    assert data["expression"] == 'starts_with(http.request.uri.path, "/data/")'
    assert data["action_parameters"]["headers"]["X-Robots-Tag"] == {"operation": "set", "value": "noindex"}
    everything = by_description["immostats: /*"]
    assert (
        everything["expression"] == "true"
        and "Content-Security-Policy" in everything["action_parameters"]["headers"]
    )
    assert {f"immostats: {p}" for p, _ in cdnrules.parse_headers(sitefiles.HEADERS)} <= set(by_description)
    assert all(h.get("Authorization") == f"Bearer {SECRET}" for _, _, h in zone.calls)
    # Again: nothing to write.
    assert cdnrules.apply(zone.cf, sitefiles.HEADERS, QUICK, log=lines.append) is False
    assert zone.puts() == 1 and lines[-1].startswith("CDN header rules: already in place")
    # The declared headers change: written again, the foreign rule still kept.
    changed = sitefiles.HEADERS.replace("max-age=86400", "max-age=3600")
    assert cdnrules.apply(zone.cf, changed, QUICK, log=lines.append) is True
    assert zone.puts() == 2 and any(r["description"] == "someone else's rule" for r in zone.rules or [])


def test_a_zone_without_the_ruleset_gets_it(zone: Rulesets) -> None:
    assert cdnrules.apply(zone.cf, sitefiles.HEADERS, QUICK, log=lambda _: None) is True
    assert zone.rules and all(r["description"].startswith("immostats: ") for r in zone.rules)


def test_a_refusal_is_one_line_without_the_token(zone: Rulesets) -> None:
    zone.refuse = True
    with pytest.raises(cdnrules.CdnRulesError) as info:
        cdnrules.apply(zone.cf, sitefiles.HEADERS, QUICK, log=lambda _: None)
    assert str(info.value) == "CDN header rules refused (HTTP 403): 10000: Authentication error"
    assert SECRET not in str(info.value)


def test_doit_cdn_rules(zone: Rulesets, tmp_path: Path) -> None:
    paths = Paths.of(tmp_path / "build", tmp_path / "site")
    env = {"CF_ZONE": "zone1", "CF_API_TOKEN": SECRET, "CF_API_BASE": zone.server.url}
    first = run_doit(paths, "cdn-rules", env=env)
    assert "rules written" in first.stdout and SECRET not in first.stdout + first.stderr
    assert "already in place" in run_doit(paths, "cdn-rules", env=env).stdout
