"""ImmoStats: DVF -> DuckDB -> per-place JSON -> static site.

Run `doit` (a second run does nothing and prints nothing); `doit list` shows the steps.
Settings are `name=value` on the command line, or `IMMOSTATS_NAME` in the environment (what the
workflow uses): build_dir=, site_dir=, source= (a DVF file or folder; default: the real sample
in tests/data/sample), site_url=, departements=, memory_limit=, threads=, the statistics settings
of rules/method.py (min_value=, grade_min=, ...) and the publishing ones of rules/publishing.py.
"""

from __future__ import annotations

import hashlib
import sys
from functools import cache
from pathlib import Path

from doit import get_var
from doit.tools import config_changed

from rules import (
    buildlock,
    datagouv,
    gate,
    health,
    history,
    method,
    notify,
    places,
    publishing,
    purge,
    reference,
    render,
    site,
    sitefiles,
    sources,
    stats,
    store,
    tidy,
    versions,
)
from rules.doitedge import Reporter, github_output, guarded, or_exit
from rules.errors import ImmoStatsError
from rules.method import Method
from rules.paths import ROOT, SAMPLE_SOURCE, Paths
from rules.settings import Settings, environment_fallback, read_vars

var = environment_fallback(get_var)
P = Paths.of(var("build_dir", "build"), var("site_dir", "site"))
P.build.mkdir(parents=True, exist_ok=True)  # doit does not create its dep_file's folder
or_exit(lambda: buildlock.hold(P.lock, sys.argv[1:]))  # one doit at a time on this build/
SETTINGS = or_exit(lambda: Settings.from_vars(var))
METHOD = or_exit(lambda: Method.from_vars(var))
LIMITS = or_exit(lambda: gate.Limits(**read_vars(gate.Limits, var)))
SCOPE = SETTINGS.scope()
PLACES = places.all_places(SCOPE)
SOURCE = var("source", str(SAMPLE_SOURCE))
FOLLOW = SOURCE == "datagouv"  # production: follow data.gouv.fr; otherwise a local file or folder
REMOTE = or_exit(lambda: datagouv.Remote(**read_vars(datagouv.Remote, var, names={"api": "datagouv_api"})))
SITE_URL = var("site_url", site.DEFAULT_URL)
PUB = or_exit(
    lambda: publishing.Publishing(
        repo=Path(var("repo", str(ROOT))).resolve(),
        push=var("push", "0").lower() in ("1", "true", "yes"),
        **read_vars(publishing.Publishing, var, skip={"repo", "push"}),
    )
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
    "tidy",
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
    """Import the DVF source into the history store (build/dvf.duckdb), first rebuilt from the
    history branch in git when it is missing or older than what was published."""
    files = _source_files()
    return {
        "actions": [(guarded(_load), [files])],
        "file_dep": [
            *files,
            *store.SQL_FILES,
            *history.SQL_FILES,
            *reference.FILES,
            store.__file__,
            sources.__file__,
            history.__file__,
        ],
        "targets": [P.db, P.store_manifest],
        "uptodate": [config_changed({"source": SOURCE, "memory_limit": SETTINGS.memory_limit})],
        "clean": True,
    }


def _load(files: list) -> None:
    history.ensure_store(P, SETTINGS, PUB)
    if FOLLOW:
        store.import_files(P, datagouv.downloaded_files(P), SETTINGS)
        datagouv.mark_imported(P)
    else:
        store.import_files(P, files or sources.discover(SOURCE), SETTINGS)


def task_history():
    """Mirror the store as Parquet in build/history/, rewriting only the periods that changed: what
    publish commits to the history branch (a plain build does not need it)."""
    return {
        "actions": [(guarded(history.export), [P, SETTINGS])],
        "file_dep": [P.store_manifest, *history.SQL_FILES, history.__file__],
        "targets": [P.history_manifest],
        "clean": True,
    }


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
        "targets": [P.changes, P.data_manifest, P.release, *_place_files()],
        "uptodate": [config_changed({**METHOD.as_dict(), "departements": sorted(SCOPE)})],
        "clean": True,
    }


@cache
def _place_files() -> tuple[str, ...]:
    """The 35,000 per-place JSON files: built once per run, for stats and for the site's file list."""
    return tuple(places.json_file(P, *key) for key in PLACES)


def task_assets():
    """Minify CSS and JS, name them by content hash; write build/site.json (URL, scope, assets)."""
    return {
        "actions": [(guarded(site.build_assets), [P, SITE_URL, SCOPE])],
        "file_dep": [*site.ASSET_SOURCES.values(), site.__file__],
        "targets": [P.site_config, *site.asset_files(P)],
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
    yield from _render_tasks()


@cache
def _render_tasks() -> list[dict]:
    """Made once per run: doit reads them, and so does the list of the site's files."""
    tasks = []
    fingerprint = {
        level: str(render.fingerprint_path(P, name)) for level, name in render.PAGE_TEMPLATES.items()
    }
    for level, code in PLACES:
        deps = [places.json_file(P, level, code), fingerprint[level]]
        if level == "france":
            deps.append(P.release)  # the home page states the DVF release
        tasks.append(
            {
                "name": code if level == "commune" else f"{level}-{code}".lower(),
                "actions": [(guarded(render.render_place), [P, level, code])],
                "file_dep": deps,
                "targets": [render.page_file(P, level, code)],
                "clean": True,
            }
        )
    for name, target in sitefiles.STATIC_PAGES.items():
        tasks.append(
            {
                "name": name.removesuffix(".html"),
                "actions": [
                    (guarded(render.render_static), [P, name, target, name in sitefiles.RELEASE_PAGES])
                ],
                "file_dep": [
                    render.fingerprint_path(P, name),
                    *([P.release] if name in sitefiles.RELEASE_PAGES else []),
                ],
                "targets": [P.site / target],
                "clean": True,
            }
        )
    return tasks


def task_sitefiles():
    """Search index, sitemap, robots.txt and _headers: from the referential and settings only."""
    return {
        "actions": [(guarded(sitefiles.write), [P])],
        "file_dep": [*reference.FILES, sitefiles.__file__, places.__file__, P.site_config],
        "targets": list(_sitefile_targets()),
        "clean": True,
    }


def task_tidy():
    """Remove from site/ what the build no longer declares (a narrower scope, an old asset) and
    the leftovers of a killed write; runs when the set of the site's files changes."""
    declared = sorted(_site_files())
    digest = hashlib.sha256("\n".join(declared).encode()).hexdigest()
    return {
        "actions": [(guarded(tidy.remove_undeclared), [P.site, set(declared)])],
        "uptodate": [config_changed({"site_files": digest})],
    }


@cache
def _site_files() -> frozenset[str]:
    """Every file of the site, as declared by the build tasks (paths under site/)."""
    tasks = [task_stats(), task_assets(), *_render_tasks(), task_sitefiles(), task_health()]
    prefix = f"{P.site}/"
    return frozenset(
        str(t).removeprefix(prefix) for task in tasks for t in task["targets"] if str(t).startswith(prefix)
    )


@cache
def _sitefile_targets() -> tuple[Path, ...]:
    return tuple(sitefiles.targets(P, PLACES))


def task_gate():
    """Quality gate: compare the new data with the version online; a failure blocks publish."""
    return {"actions": [(guarded(_gate), [])], "task_dep": BUILD, "uptodate": [False]}


def _gate() -> None:
    gate.run(P, LIMITS, versions.published_profile(PUB))


def task_publish():
    """Build, pass the gate, then put the site online as backup/<YYYY.MM.DD.N> and the deploy branch."""
    return {
        "actions": [(guarded(_publish), [])],
        "task_dep": [*BUILD, "history", "gate"],
        "uptodate": [False],
    }


def _publish() -> None:
    done = versions.publish(P, PUB, set(_site_files()))
    github_output(version=done["version"] or "")
    if done["version"] is None:
        kept = "; its history in git is updated" if done["history_only"] else ""
        print(f"nothing to publish: the site online ({done['current']}) is identical to this build{kept}")
        return
    where = f"pushed to {PUB.remote}" if PUB.push else "not pushed (push=1 pushes)"
    print(
        f"published {done['version']}: {done['cities_updated']} communes updated, "
        f"{done['new_transactions']} new sales, {done['files_changed']} files changed "
        f"({done['commit'][:10]}, {where})"
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
    print("\n".join(versions.describe(PUB)))
    print("roll back with: doit rollback:<version> (or doit rollback:previous)")


def _rollback(name: str) -> None:
    if not versions.requested(sys.argv[1:], name):
        return  # part of `doit rollback`, which only lists
    done = versions.rollback(P, PUB, name)
    if done.get("unchanged"):
        print(f"{done['version']} is already online")
        return
    print(
        f"rolled back to {done['version']}: {done['files_changed']} files changed online "
        f"({done['commit'][:10]})"
    )


def task_purge():
    """Purge from Cloudflare the URLs that changed online since the last purge (CF_* from the environment)."""
    return {
        "actions": [(guarded(_purge), [])],
        "uptodate": [False],
    }


def _purge() -> None:
    batch, wait = int(var("purge_batch", "30")), float(var("purge_wait", "600"))
    purge.purge(PUB, SITE_URL, purge.Cloudflare.from_env(), batch, wait=wait)


def task_notify():
    """Send the run's outcome to Slack and Discord (status=success|failure error=...); never fails."""
    return {"actions": [(guarded(_notify), [])], "uptodate": [False]}


def _notify() -> None:
    status = var("status", "success")
    checks = gate.result(P)
    held = "" if not checks or checks["passed"] else "quality gate: " + "; ".join(checks["failed"])
    fields = notify.summary(versions.read_record(PUB), status, var("error", "") or held)
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
