"""The site's own health: `site/api/health.json` and the admin dashboard `site/admin/index.html`.

Written by the build (its inputs are build files, so a no-change `doit` does not rewrite them);
`publish` puts into the deploy commit a copy rendered for the version going online. The JSON has
the seed's fields and, in the health+json spirit, a pass/warn/fail status with a staleness rule
(monitors re-apply it with `warn_after_days` / `fail_after_days`, since the file is static).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from rules.files import canonical_json, write_if_changed
from rules.method import FUNNEL
from rules.paths import ADMIN, HEALTH, Paths
from rules.render import env
from rules.site import load as load_site

WARN_AFTER_DAYS, FAIL_AFTER_DAYS = 8, 15  # a weekly run: one missed run warns, two fail
CRON = "lundi 03:00 UTC"


def next_run(after: datetime) -> datetime:
    """The next Monday 03:00 UTC strictly after `after` (the workflow's cron)."""
    day = after.replace(hour=3, minute=0, second=0, microsecond=0) + timedelta(days=(7 - after.weekday()) % 7)
    return day if day > after else day + timedelta(days=7)


def _last_runs(paths: Paths) -> list[tuple]:
    """The last import attempts, from build/imports.json (health's declared input, written by every
    import and every recorded failure), with their times back as datetimes."""
    runs = orjson.loads(paths.imports.read_bytes())
    return [
        (batch, status, _time(started), _time(completed), rows, error)
        for batch, status, started, completed, rows, error in runs
    ]


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def document(paths: Paths, record: dict[str, Any] | None) -> dict[str, Any]:
    changes = orjson.loads(paths.changes.read_bytes())
    store = orjson.loads(paths.store_manifest.read_bytes())
    release = orjson.loads(paths.release.read_bytes())
    runs = _last_runs(paths)
    success = next((r for r in runs if r[1] == "success"), None)
    last_update = (
        success[3] if success else datetime.fromisoformat(changes["started_at"]).replace(tzinfo=None)
    )
    age = (datetime.fromisoformat(changes["started_at"]).replace(tzinfo=None) - last_update).days
    status = "pass" if age < WARN_AFTER_DAYS else ("warn" if age < FAIL_AFTER_DAYS else "fail")
    if runs and runs[0][1] == "failed":
        status = "warn" if status == "pass" else status
    counts = changes["counts"]
    if changes.get("communes") and not changes.get("published_communes"):
        status = "fail"  # data and pages, but not one price: whatever the dates say, the site is broken
    return {
        "status": status,
        "last_update": last_update.replace(tzinfo=UTC).isoformat(),
        "next_update": next_run(last_update.replace(tzinfo=UTC)).isoformat(),
        "update_frequency": f"hebdomadaire ({CRON})",
        "data_version": release["text"],
        "cities_count": changes.get("published_communes", 0),
        "cities_known": changes.get("communes", 0),
        "total_transactions": store["rows"],
        "sales_published": changes["sales"],
        "warn_after_days": WARN_AFTER_DAYS,
        "fail_after_days": FAIL_AFTER_DAYS,
        "last_run": {
            "status": runs[0][1] if runs else "none",
            "rows_imported": int(runs[0][4] or 0) if runs else 0,
            "import_seconds": round((runs[0][3] - runs[0][2]).total_seconds(), 1)
            if runs and runs[0][3]
            else None,
            # Public: that it failed, not why: the message names files and values of the build
            # machine; it stays in update_log and the run's log.
            "error": PUBLIC_ERROR if runs and runs[0][1] == "failed" else None,
            "places_written": counts["written"],
            "places_unchanged": counts["unchanged"],
            "unknown_commune_rows": sum(changes.get("unknown_communes", {}).values()),
            "stages": {  # rows left after each step of the method, all years
                step: sum(year[step] for year in changes.get("funnel", {}).values()) for step in FUNNEL
            },
        },
        "version": (record or {}).get("current"),
        "repository_bytes": _repository_bytes(record),
        "recent_versions": (record or {}).get("history", [])[:10],
    }


PUBLIC_ERROR = "import failed (the detail is in update_log and the run's log)"


def render(paths: Paths, record: dict[str, Any] | None, github_repo: str = "") -> dict[str, bytes]:
    """health.json and the admin page, as bytes by path under site/."""
    doc = document(paths, record)
    html = (
        env()
        .get_template("admin.html")
        .render(site=load_site(paths.site_config), url="/admin/", health=doc, github_repo=github_repo)
    )
    return {HEALTH: canonical_json(doc), ADMIN: html.encode("utf-8")}


def _repository_bytes(record: dict[str, Any] | None) -> int | None:
    """The size of the git repository (versions and history) when the last version was published."""
    for entry in (record or {}).get("history", []):
        if entry.get("kind") == "publish":
            return entry.get("changes", {}).get("repository_bytes")
    return None


def write(paths: Paths, record: dict[str, Any] | None, github_repo: str = "") -> None:
    """Write health.json and the admin page into site/ (each only when its bytes change)."""
    for relative, data in render(paths, record, github_repo).items():
        write_if_changed(paths.site_file(relative), data)
