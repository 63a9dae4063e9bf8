"""Tell the team how a run went: Slack incoming webhook and Discord webhook.

Sent after success and after failure, with the outcome's colour; not configured, nothing is
sent. A notification that fails is reported and never turns a good build into a failed one.
Discord's limits are respected (title 256, field value 1024, description 4096, 6000 in all).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from rules import http
from rules.fr import NNBSP, nombre
from rules.settings import setting

COLORS = {"success": 0x2ECC71, "failure": 0xE74C3C}  # green, red (Discord wants an integer)
Log = Callable[[str], None]
WEBHOOKS = http.Client(connect_timeout=10, read_timeout=30, attempts=1)  # a message is sent once


@dataclass(frozen=True)
class Outcome:
    """Settings of `doit notify`: status=success|failure, error= (what failed, in one line)."""

    status: str = setting(
        "success",
        "`doit notify`: the run's outcome, `success` or `failure`",
        pattern="success|failure",
        expected="expected success or failure",
    )
    error: str = setting("", "`doit notify`: what failed, in one line")


def summary(record: dict[str, Any] | None, status: str, error: str = "") -> dict[str, str]:
    """The figures every notification carries, from versions/version.json's latest entry."""
    entry = (record or {}).get("history", [{}])[0] if record and record.get("history") else {}
    changes = entry.get("changes", {})
    fields = {
        "Version": entry.get("version", "—"),
        "Statut": "réussi" if status == "success" else "échec",
        "Communes aux chiffres modifiés": _number(changes.get("communes_changed")),
        "Lignes DVF ajoutées": _number(changes.get("sales_added")),
        "Lignes DVF retirées": _number(changes.get("sales_removed")),
        "Pages modifiées": _number(changes.get("pages_changed")),
        "Fichiers modifiés": _number(changes.get("files_changed")),
        "Durée du build": f"{changes['build_time']} s" if changes.get("build_time") is not None else "—",
        "Taille du dépôt": _megabytes(changes.get("repository_bytes")),
    }
    if error:
        fields["Erreur"] = error
    return fields


def _number(value: int | None) -> str:
    return "—" if value is None else nombre(value)


def _megabytes(size: int | None) -> str:
    """412 800 000 -> '412,8 Mo' (French, as the rest of the message)."""
    return f"{nombre(round(size / 1e6, 1))}{NNBSP}Mo" if size else "—"


def slack_payload(fields: dict[str, str], status: str) -> dict[str, Any]:
    title = f"ImmoStats : mise à jour {'réussie' if status == 'success' else 'en échec'}"
    return {
        "text": f"{title} ({fields['Version']})",
        "attachments": [
            {
                "color": f"#{COLORS[status]:06x}",
                "blocks": [
                    {"type": "section", "text": {"type": "mrkdwn", "text": f"*{title}*"}},
                    {
                        "type": "section",
                        "fields": [
                            {"type": "mrkdwn", "text": f"*{k}*\n{_cut(v, 1900)}"}
                            for k, v in list(fields.items())[:10]
                        ],
                    },
                ],
            }
        ],
    }


def discord_payload(fields: dict[str, str], status: str) -> dict[str, Any]:
    title = f"ImmoStats : mise à jour {'réussie' if status == 'success' else 'en échec'}"
    embed_fields = [
        {"name": _cut(k, 256), "value": _cut(v or "—", 1024), "inline": k != "Erreur"}
        for k, v in fields.items()
    ][:25]
    embed: dict[str, Any] = {"title": _cut(title, 256), "color": COLORS[status], "fields": embed_fields}
    while _embed_size(embed) > 6000 and embed["fields"]:  # the 6000-character total, all parts
        last = embed["fields"][-1]
        last["value"] = _cut(last["value"], max(1, len(last["value"]) - (_embed_size(embed) - 6000)))
        if _embed_size(embed) > 6000:
            embed["fields"].pop()
    return {"username": "ImmoStats", "embeds": [embed], "allowed_mentions": {"parse": []}}


def _embed_size(embed: dict[str, Any]) -> int:
    return len(embed["title"]) + sum(len(f["name"]) + len(f["value"]) for f in embed["fields"])


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def send(fields: dict[str, str], status: str, env: Mapping[str, str] = os.environ, log: Log = print) -> int:
    """Post to every configured webhook; returns how many accepted. Never raises."""
    targets = [
        ("Slack", env.get("SLACK_WEBHOOK_URL"), slack_payload, lambda r: r.status_code == 200),
        ("Discord", env.get("DISCORD_WEBHOOK_URL"), discord_payload, lambda r: r.status_code in (200, 204)),
    ]
    sent = 0
    for name, url, payload, accepted in targets:
        if not url:
            continue
        try:
            resp = http.post_json(WEBHOOKS, url, payload(fields, status))
            if accepted(resp):
                sent += 1
                continue
            problem = f"HTTP {resp.status_code}"
        except http.HttpError as e:
            problem = e.problem
        log(f"warning: {name} notification not delivered: {problem}")  # the URL is a secret: not shown
    if not any(url for _, url, _, _ in targets):
        log("notifications: not configured (SLACK_WEBHOOK_URL, DISCORD_WEBHOOK_URL); nothing sent")
    return sent
