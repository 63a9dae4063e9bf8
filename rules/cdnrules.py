"""Make the CDN send what `site/_headers` declares, on hosts that ignore that file.

Cloudflare Pages and Netlify read `_headers`; GitHub Pages does not, so behind a Cloudflare zone
the same rules become Response Header Transform Rules (Rulesets API, phase
`http_response_headers_transform`, the zone's entry point ruleset), through the token the purge
uses. Our rules are the ones whose description starts with `immostats:`; the zone's other rules are
kept as they are. Idempotent: the ruleset is read first and written only when ours differ.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rules import http
from rules.purge import Cloudflare, PurgeError, cloudflare_errors

PHASE = "http_response_headers_transform"
MARK = "immostats: "
Log = Callable[[str], None]


class CdnRulesError(PurgeError):
    """The CDN did not take the header rules."""


def parse_headers(text: str) -> list[tuple[str, dict[str, str]]]:
    """`_headers` (Netlify / Cloudflare Pages format) as (path pattern, {header: value}), in order."""
    rules: list[tuple[str, dict[str, str]]] = []
    for raw in text.splitlines():
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        if not raw[0].isspace():
            rules.append((raw.strip(), {}))
        elif rules and ":" in raw:
            name, value = raw.split(":", 1)
            rules[-1][1][name.strip()] = value.strip()
    return [(pattern, headers) for pattern, headers in rules if headers]


def expression(pattern: str) -> str:
    """A `_headers` path pattern as a Rules language expression (`/*`: every request)."""
    if pattern == "/*":
        return "true"
    if pattern.endswith("*"):
        return f'starts_with(http.request.uri.path, "{pattern[:-1]}")'
    return f'http.request.uri.path eq "{pattern}"'


def wanted(text: str) -> list[dict[str, Any]]:
    """The transform rules that say what `text` says: one per path pattern, headers set, in order
    (all matching rules apply, as with `_headers`)."""
    return [
        {
            "description": f"{MARK}{pattern}",
            "expression": expression(pattern),
            "action": "rewrite",
            "action_parameters": {
                "headers": {name: {"operation": "set", "value": value} for name, value in headers.items()}
            },
            "enabled": True,
        }
        for pattern, headers in parse_headers(text)
    ]


def _comparable(rule: dict[str, Any]) -> tuple:
    return (
        rule.get("description"),
        rule.get("expression"),
        rule.get("action"),
        rule.get("action_parameters"),
        rule.get("enabled", True),
    )


def apply(cf: Cloudflare | None, text: str, client: http.Client, log: Log = print) -> bool:
    """Bring the zone's response header rules in line with `text`; True when they were written."""
    if cf is None:
        log("CDN header rules: not configured (CF_ZONE with CF_API_TOKEN)")
        return False
    url = f"{cf.api}/zones/{cf.zone}/rulesets/phases/{PHASE}/entrypoint"
    current = _current_rules(cf, url, client)
    ours = wanted(text)
    mine = [r for r in current if str(r.get("description", "")).startswith(MARK)]
    if [_comparable(r) for r in mine] == [_comparable(r) for r in ours]:
        log(f"CDN header rules: already in place ({len(ours)} rules)")
        return False
    others = [_kept(r) for r in current if not str(r.get("description", "")).startswith(MARK)]
    reply = _send(client, "PUT", url, cf, {"rules": [*others, *ours]})
    if not (isinstance(reply, dict) and reply.get("success") is True):
        raise CdnRulesError(f"CDN header rules refused: {cloudflare_errors(reply)}")
    log(f"CDN header rules: {len(ours)} rules written ({len(others)} other rules of the zone kept)")
    return True


def _current_rules(cf: Cloudflare, url: str, client: http.Client) -> list[dict[str, Any]]:
    reply = _send(client, "GET", url, cf, None, missing_ok=True)
    if reply is None:  # no entry point ruleset yet: the PUT creates it
        return []
    result = reply.get("result") if isinstance(reply, dict) else None
    rules = result.get("rules", []) if isinstance(result, dict) else None
    if not isinstance(rules, list) or not all(isinstance(r, dict) for r in rules):
        raise CdnRulesError("CDN header rules: the zone's ruleset is not a Cloudflare API reply")
    return rules


def _kept(rule: dict[str, Any]) -> dict[str, Any]:
    """Another rule of the zone, as a PUT takes it back (without the fields the API sets)."""
    return {k: v for k, v in rule.items() if k not in ("id", "version", "last_updated", "ref")}


def _send(
    client: http.Client, method: str, url: str, cf: Cloudflare, body: Any, missing_ok: bool = False
) -> Any:
    try:
        resp = http.with_credentials(client, method, url, cf.headers, body)
    except http.HttpError as e:
        raise CdnRulesError(f"CDN header rules failed: {e.problem}") from None
    if missing_ok and resp.status_code == 404:
        return None
    try:
        reply = resp.json()
    except ValueError:
        reply = None
    if resp.status_code != 200:
        raise CdnRulesError(f"CDN header rules refused (HTTP {resp.status_code}): {cloudflare_errors(reply)}")
    return reply
