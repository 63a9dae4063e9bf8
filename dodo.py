"""ImmoStats: DVF -> DuckDB -> per-place JSON -> static site.

Run `doit` (a second run does nothing and prints nothing); `doit list` shows the steps.
Command-line variables: build_dir=, site_dir=, source= (a DVF file or folder; default: the
real sample in tests/data/sample), site_url=, departements=, memory_limit=, threads=, and the
statistics settings of rules/method.py (min_value=, grade_min=, ...).
"""

from __future__ import annotations

import sys
from pathlib import Path

from doit import get_var
from doit.tools import config_changed

from rules import (
    datagouv,
    gate,
    health,
    method,
    notify,
    places,
    purge,
    reference,
    render,
    site,
    sitefiles,
    sources,
    stats,
    store,
    versions,
)
from rules.doitedge import Reporter, guarded, or_exit
from rules.errors import ImmoStatsError
from rules.method import Method
from rules.paths import ROOT, SAMPLE_SOURCE, Paths
from rules.settings import Settings, read_vars

P = Paths.of(get_var("build_dir", "build"), get_var("site_dir", "site"))
P.build.mkdir(parents=True, exist_ok=True)  # doit does not create its dep_file's folder
SETTINGS = or_exit(lambda: Settings.from_vars(get_var))
METHOD = or_exit(lambda: Method.from_vars(get_var))
LIMITS = or_exit(lambda: gate.Limits(**read_vars(gate.Limits, get_var)))
SCOPE = SETTINGS.scope()
PLACES = places.all_places(SCOPE)
SOURCE = get_var("source", str(SAMPLE_SOURCE))
FOLLOW = SOURCE == "datagouv"  # production: follow data.gouv.fr; otherwise a local file or folder
REMOTE = or_exit(
    lambda: datagouv.Remote(
        api=get_var("datagouv_api", datagouv.DEFAULT_API),
        dataset=get_var("dataset", datagouv.DEFAULT_DATASET),
        connect_timeout=float(get_var("connect_timeout", "10")),
        read_timeout=float(get_var("read_timeout", "60")),
        retries=int(get_var("retries", "4")),
        backoff=float(get_var("backoff", "2")),
    )
)
SITE_URL = get_var("site_url", site.DEFAULT_URL)
PUB = versions.Publishing(
    repo=Path(get_var("repo", str(ROOT))).resolve(),
    deploy_branch=get_var("deploy_branch", "gh-pages"),
    push=get_var("push", "0").lower() in ("1", "true", "yes"),
    remote=get_var("remote", "origin"),
    github_repo=get_var("github_repo", ""),
)
or_exit(lambda: versions.check_command_line(sys.argv[1:], PUB))
GITHUB_REPO = PUB.github_repo
BUILD = [
    *(["check", "download"] if FOLLOW else []),
    "load",
    "stats",
    "assets",
    "fingerprint",
    "render",
    "sitefiles",
    "health",
]

DOIT_CONFIG = {
    "default_tasks": BUILD,
    "dep_file": str(P.doit_db),
    "backend": "sqlite3",
    "reporter": Reporter,
    "verbosity": 2,
    "minversion": "0.37.0",
}
TEMPLATES = sorted({*render.PAGE_TEMPLATES.values(), *sitefiles.STATIC_PAGES, "admin.html"})


def _source_files() -> list:
    """Resolved lazily so a bad source= is one error line from the task, not a dodo crash."""
    if FOLLOW:
        return [P.downloads]
    try:
        return sources.discover(SOURCE)
    except ImmoStatsError:  # reported by the load action itself, as one line
        return []


def task_check():
    """source=datagouv: ask data.gouv.fr whether DVF changed (runs every time; quiet task line)."""
    if FOLLOW:
        return {
            "actions": [(guarded(datagouv.run_check), [P, SETTINGS, REMOTE])],
            "targets": [P.datagouv_release],
            "uptodate": [False],
            "meta": {"quiet": True},
        }
    return {"actions": None, "doc": "only with source=datagouv"}


def task_download():
    """source=datagouv: download new or changed files into build/raw/ (`doit clean` keeps them)."""
    if FOLLOW:
        return {
            "actions": [(guarded(datagouv.run_download), [P, SETTINGS, REMOTE])],
            "file_dep": [P.datagouv_release, datagouv.__file__],
            "targets": [P.downloads],
            "clean": [],
        }
    return {"actions": None, "doc": "only with source=datagouv"}


def task_load():
    """Import the DVF source into the DuckDB history store (build/dvf.duckdb)."""
    files = _source_files()
    return {
        "actions": [(guarded(_load), [files])],
        "file_dep": [*files, *store.SQL_FILES, *reference.FILES, store.__file__, sources.__file__],
        "targets": [P.db, P.store_manifest],
        "uptodate": [config_changed({"source": SOURCE, "memory_limit": SETTINGS.memory_limit})],
        "clean": True,
    }


def _load(files: list) -> None:
    if FOLLOW:
        store.import_files(P, datagouv.downloaded_files(P), SETTINGS)
        datagouv.mark_imported(P)
    else:
        store.import_files(P, files or sources.discover(SOURCE), SETTINGS)


def task_stats():
    """Compute every figure in one DuckDB pass; write one JSON per place (only if its bytes change)."""
    return {
        "actions": [(guarded(stats.run), [P, METHOD, SETTINGS])],
        "file_dep": [
            P.store_manifest,
            *stats.SQL_FILES,
            *reference.FILES,
            stats.__file__,
            method.__file__,
            places.__file__,
        ],
        "targets": [P.changes, P.data_manifest, P.release, *(places.json_file(P, *key) for key in PLACES)],
        "uptodate": [config_changed({**METHOD.as_dict(), "departements": sorted(SCOPE)})],
        "clean": True,
    }


def task_assets():
    """Minify CSS and JS, name them by content hash; write build/site.json (URL, scope, assets)."""
    return {
        "actions": [(guarded(site.build_assets), [P, SITE_URL, SCOPE])],
        "file_dep": [*site.ASSET_SOURCES.values(), site.__file__],
        "targets": [P.site_config],
        "uptodate": [config_changed({"url": SITE_URL, "departements": sorted(SCOPE)})],
        "clean": True,
    }


def task_fingerprint():
    """One content hash per page template: the templates it reaches, the renderer, build/site.json."""
    for name in TEMPLATES:
        inputs = render.fingerprint_inputs(name, P)
        yield {
            "name": name,
            "actions": [(guarded(render.write_fingerprint), [render.fingerprint_path(P, name), inputs])],
            "file_dep": inputs,
            "targets": [render.fingerprint_path(P, name)],
            "clean": True,
        }


def task_render():
    """One page per place, re-rendered only when its JSON or its template's fingerprint changes."""
    fingerprint = {
        level: str(render.fingerprint_path(P, name)) for level, name in render.PAGE_TEMPLATES.items()
    }
    for level, code in PLACES:
        deps = [places.json_file(P, level, code), fingerprint[level]]
        if level == "france":
            deps.append(P.release)  # the home page states the DVF release
        yield {
            "name": code if level == "commune" else f"{level}-{code}".lower(),
            "actions": [(guarded(render.render_place), [P, level, code])],
            "file_dep": deps,
            "targets": [render.page_file(P, level, code)],
            "clean": True,
        }
    for name, target in sitefiles.STATIC_PAGES.items():
        yield {
            "name": name.removesuffix(".html"),
            "actions": [(guarded(render.render_static), [P, name, target, name in sitefiles.RELEASE_PAGES])],
            "file_dep": [
                render.fingerprint_path(P, name),
                *([P.release] if name in sitefiles.RELEASE_PAGES else []),
            ],
            "targets": [P.site / target],
            "clean": True,
        }


def task_sitefiles():
    """Search index, sitemap, robots.txt and _headers: from the referential and settings only."""
    return {
        "actions": [(guarded(sitefiles.write), [P])],
        "file_dep": [*reference.FILES, sitefiles.__file__, places.__file__, P.site_config],
        "targets": sitefiles.targets(P),
        "clean": True,
    }


def task_gate():
    """Quality gate: compare the new data with the last published version; a failure blocks publish."""
    return {"actions": [(guarded(gate.run), [P, LIMITS])], "task_dep": BUILD, "uptodate": [False]}


def task_publish():
    """Build, pass the gate, then commit site/ as backup/<YYYY.MM.DD.N> and move the deploy branch."""
    return {
        "actions": [(guarded(_publish), [])],
        "task_dep": [*BUILD, "gate"],
        "uptodate": [False],
    }


def _publish() -> None:
    done = versions.publish(P, PUB)
    gate.accept(P)
    print(
        f"published {done['version']}: {done['cities_updated']} communes updated, "
        f"{done['new_transactions']} new sales, {done['files_changed']} files changed ({done['commit'][:10]})"
    )


def task_rollback():
    """`doit rollback:<version>` or `doit rollback:previous`; `doit rollback` alone lists the versions."""
    yield {"name": "list", "actions": [(guarded(_list_versions), [])], "uptodate": [False]}
    for name in [*versions.list_versions(PUB), "previous"]:
        # Under `doit rollback` (or any selection of several), these run as no-ops and stay silent.
        yield {
            "name": name,
            "actions": [(guarded(_rollback), [name])],
            "uptodate": [False],
            "meta": {"only_when_named": True},
        }


def _list_versions() -> None:
    print("\n".join(versions.describe(P, PUB)))
    print("roll back with: doit rollback:<version> (or doit rollback:previous)")


def _rollback(name: str) -> None:
    if not versions.requested(sys.argv[1:], name):
        return  # part of `doit rollback`, which only lists
    done = versions.rollback(P, PUB, name)
    print(f"rolled back to {done['version']}: {done['files_changed']} files restored ({done['commit'][:10]})")


def task_purge():
    """Purge from Cloudflare the URLs the last publish or rollback changed (CF_* from the environment)."""
    return {
        "actions": [(guarded(_purge), [])],
        "uptodate": [False],
    }


def _purge() -> None:
    batch = int(get_var("purge_batch", "30"))
    purge.purge(P.build / "purge.json", P.build / "purged.json", SITE_URL, purge.Cloudflare.from_env(), batch)


def task_notify():
    """Send the run's outcome to Slack and Discord (status=success|failure error=...); never fails."""
    return {"actions": [(guarded(_notify), [])], "uptodate": [False]}


def _notify() -> None:
    status = get_var("status", "success")
    checks = gate.result(P)
    held = "" if not checks or checks["passed"] else "quality gate: " + "; ".join(checks["failed"])
    fields = notify.summary(versions.read_record(PUB), status, get_var("error", "") or held)
    notify.send(fields, "success" if status == "success" else "failure")


def task_health():
    """site/api/health.json and the admin dashboard site/admin/ (not indexed), from the build's files."""
    return {
        "actions": [(guarded(_health), [])],
        "file_dep": [
            P.store_manifest,
            P.changes,
            P.release,
            P.site_config,
            render.fingerprint_path(P, "admin.html"),
            health.__file__,
        ],
        "targets": [P.site / "api" / "health.json", P.site / "admin" / "index.html"],
        "uptodate": [config_changed({"github_repo": GITHUB_REPO})],
        "clean": True,
    }


def _health() -> None:
    health.write(P, versions.read_record(PUB), GITHUB_REPO)
