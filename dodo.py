"""ImmoStats: DVF -> DuckDB -> per-place JSON -> static site.

Run `doit` (a second run does nothing and prints nothing); `doit list` shows the steps.
Settings are `name=value` on the command line, or `IMMOSTATS_NAME` in the environment (what the
workflow uses); rules/config.py reads and checks them all, README's "Settings" lists them.
"""

from __future__ import annotations

import hashlib
import sys
import time
from collections.abc import Iterator
from functools import cache
from pathlib import Path

from doit import create_after, get_var
from doit.task import clean_targets
from doit.tools import config_changed

from rules import (
    buildlock,
    cdnrules,
    codedeps,
    config,
    datagouv,
    gate,
    health,
    history,
    http,
    notify,
    placedoc,
    places,
    prerender,
    purge,
    reference,
    render,
    settled,
    site,
    sitefiles,
    sources,
    stats,
    store,
    tidy,
    versions,
)
from rules.doitedge import (
    Reporter,
    ctrl_c_is_one_line,
    files_unchanged,
    full_disk_at_the_records_is_one_line,
    guarded,
    no_full_collections,
    or_exit,
    output_may_close,
    preload_records,
    subtasks,
)
from rules.errors import ImmoStatsError
from rules.md5checker import MD5Checker
from rules.paths import ADMIN, HEALTH, SUMMARY
from rules.recordcodec import RecordCodec
from rules.settings import environment_fallback
from rules.stepoutputs import github_output

STARTED = time.time()  # what this run's tasks write is newer (see prerender.rewritten_since)
ctrl_c_is_one_line()
full_disk_at_the_records_is_one_line()
output_may_close(sys.argv[1:])
no_full_collections()
settled.watch_runs()
var = environment_fallback(get_var)
P = or_exit(lambda: config.paths(var))  # and makes the build folder: doit does not make its database's
or_exit(lambda: buildlock.hold(P.lock, sys.argv[1:]))  # one doit at a time on this build/
CFG = or_exit(lambda: config.load(var, sys.argv[1:]))
SETTINGS, METHOD, LIMITS, REMOTE, PUB = CFG.settings, CFG.method, CFG.limits, CFG.remote, CFG.publishing
SOURCE, FOLLOW = CFG.source, CFG.follow
or_exit(lambda: versions.check_command_line(sys.argv[1:], PUB))
if "publish" in sys.argv[1:]:  # before building anything: a public site needs its legal notice
    or_exit(lambda: CFG.legal.check(SETTINGS.site_url))
GITHUB_REPO = PUB.github_repo
TEMPLATES = sorted({*render.PAGE_TEMPLATES.values(), *sitefiles.STATIC_PAGES, "admin.html"})
BUILD = [
    *(["check", "download"] if FOLLOW else []),
    "load",
    "stats",
    "assets",
    # By name, not as their group: doit then checks them before it makes the pages' tasks, under
    # `publish` too (a group's subtasks go to the back of its queue), and rules/settled.py can leave
    # out the pages they leave up to date.
    *(f"fingerprint:{name}" for name in TEMPLATES),
    "render",
    "sitefiles",
    "health",
    "tidy",
]

DOIT_CONFIG = {
    "default_tasks": BUILD,
    "dep_file": str(P.doit_db),
    "backend": "sqlite3",
    "codec_cls": RecordCodec,
    "check_file_uptodate": MD5Checker,
    "reporter": Reporter,
    "verbosity": 2,
    "minversion": "0.37.0",
}


@cache
def scope() -> frozenset[str]:
    """The departments the site covers (empty: all of France): `departements=` when set; else all
    of France when following data.gouv.fr, or the departments in the store for a local source.
    Read once the load task has run: the tasks that need it are created after it (create_after)."""
    return places.resolve_scope(SETTINGS.departements, None if FOLLOW else store.departements_present(P))


@cache
def place_keys() -> tuple[tuple[str, str], ...]:
    return tuple(places.remembered(scope(), P.places_cache))


def _source_files() -> list:
    """Resolved lazily so a bad source= is one error line from the task, not a dodo crash; none
    with source=datagouv (the load task reads its downloads' record)."""
    if FOLLOW:
        return []
    try:
        return sources.discover(SOURCE)
    except ImmoStatsError:  # reported by the load action itself, as one line
        return []


def task_check():
    """With source=datagouv: ask data.gouv.fr whether DVF changed (at every run)."""
    if FOLLOW:
        return {
            "actions": [(guarded(datagouv.run_check), [P, SETTINGS, REMOTE])],
            "targets": [P.datagouv_release],
            "uptodate": [False],
            "meta": {"quiet": True},
        }
    return {"actions": None, "doc": "only with source=datagouv: ask data.gouv.fr whether DVF changed"}


def task_download():
    """With source=datagouv: download new or changed DVF files into build/raw/ (`doit clean` keeps them)."""
    if FOLLOW:
        return {
            "actions": [(guarded(datagouv.run_download), [P, SETTINGS, REMOTE])],
            "file_dep": [P.datagouv_release, *codedeps.inputs(datagouv.run_download)],
            "targets": [P.downloads],
            "clean": [],
        }
    return {"actions": None, "doc": "only with source=datagouv: download new or changed DVF files"}


def task_load():
    """Import the DVF source into the history store, build/dvf.duckdb.

    The store is first rebuilt from the history branch in git when it is missing or older than
    what was published."""
    files = _source_files()
    return {
        "actions": [(guarded(_load), [files])],
        "file_dep": [
            *([P.downloads] if FOLLOW else []),  # the download task's target: it runs first
            *reference.FILES,
            *codedeps.inputs(_load),
        ],
        "targets": [P.db, P.store_manifest, P.imports],
        "uptodate": [
            config_changed({"source": SOURCE, "memory_limit": SETTINGS.memory_limit}),
            files_unchanged(files, P.source_hashes),  # the sources, by sha256 as the import
        ],
        "clean": [clean_targets, (store.clear_tmp, [P])],
    }


def _load(files: list) -> None:
    local = [] if FOLLOW else files or sources.discover(SOURCE)  # a missing source: said before any restore
    history.ensure_store(P, SETTINGS, PUB)
    if FOLLOW:
        store.import_files(P, datagouv.downloaded_files(P), SETTINGS)
        datagouv.mark_imported(P)
    else:
        store.import_files(P, local, SETTINGS)


def task_history():
    """Mirror the store as Parquet in build/history/, rewriting only the periods that changed.

    What publish commits to the history branch (a plain build does not need it)."""
    return {
        "actions": [(guarded(history.export), [P, SETTINGS])],
        "file_dep": [P.store_manifest, *codedeps.inputs(history.export)],
        "targets": [P.history_manifest],
        "clean": True,
    }


@create_after(executed="load")
def task_stats():
    """Compute every figure in one DuckDB pass; write one JSON per place (only if its bytes change)."""
    return {
        "actions": [(guarded(stats.run), [P, METHOD, SETTINGS, scope()])],
        "file_dep": [
            P.store_manifest,
            *reference.FILES,
            *codedeps.inputs(stats.run),
        ],
        "targets": [
            P.changes,
            P.data_manifest,
            P.release,
            P.unpublished,
            P.site_file(SUMMARY),
            *_place_files(),
        ],
        "uptodate": [config_changed({**METHOD.as_dict(), "departements": sorted(scope())})],
        "clean": True,
    }


@cache
def _place_files() -> tuple[str, ...]:
    """The 35,000 per-place JSON files: built once per run, for stats and for the site's file list."""
    return tuple(places.json_file(P, *key) for key in place_keys())


@create_after(executed="load")
def task_assets():
    """Minify the CSS and JS, named by their content hash, and write build/site.json.

    build/site.json holds the public URL, the scope, the assets' names and the legal notice."""
    return {
        "actions": [(guarded(site.build_assets), [P, SETTINGS.site_url, scope(), CFG.legal])],
        "file_dep": [*site.ASSET_SOURCES.values(), *codedeps.inputs(site.build_assets)],
        "targets": [P.site_config, *site.asset_files(P)],
        "uptodate": [
            config_changed(
                {"url": SETTINGS.site_url, "departements": sorted(scope()), "legal": CFG.legal.as_dict()}
            )
        ],
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


@create_after(executed="load")
def task_render():
    """One page per place, re-rendered only when its JSON or its template's fingerprint changes."""
    # Made only when a run includes the pages: doit is about to check them all.
    preload_records(f"render:{task['name']}" for task in _render_tasks())
    pages = settled.still_to_check("render", _render_tasks())  # less those doit would skip
    prerender.plan(
        lambda: _places_ahead(pages),
        lambda: _pages_ahead(pages),
        P.doit_db,
        P,
        lambda: prerender.rewritten_since(P.changes, STARTED),
    )
    yield from subtasks("render", pages, task_render.__doc__)


def _ahead(pages: list[dict]) -> Iterator[tuple[dict, list]]:
    """The page tasks a worker may compute ahead, in doit's order, with their action's arguments
    (France's page, which also reads the summary and the release, is left to its task)."""
    for task in pages:
        fn, args = task["actions"][0]
        if fn is guarded(render.render_place) and args[1] != "france":
            yield task, args


def _places_ahead(pages: list[dict]) -> list[tuple[str, str]]:
    return [(args[1], args[2]) for _, args in _ahead(pages)]


def _pages_ahead(pages: list[dict]) -> list[prerender.Page]:
    return [
        prerender.Page(
            f"render:{t['name']}", args[1], args[2], tuple(map(str, t["file_dep"])), t["targets"][0]
        )
        for t, args in _ahead(pages)
    ]


@cache
def _render_tasks() -> list[dict]:
    """Made once per run: doit reads them, and so does the list of the site's files."""
    tasks = []
    fingerprint = {
        level: str(render.fingerprint_path(P, name)) for level, name in render.PAGE_TEMPLATES.items()
    }
    for level, code in place_keys():
        tasks.append(
            {
                "name": code if level == "commune" else f"{level}-{code}".lower(),
                "actions": [(guarded(render.render_place), [P, level, code])],
                "file_dep": render.page_inputs(P, level, code, fingerprint[level]),
                "targets": [render.page_file(P, level, code)],
                "clean": True,
            }
        )
    for name, target in sitefiles.STATIC_PAGES.items():
        tasks.append(
            {
                "name": name.removesuffix(".html"),
                "actions": [
                    (
                        guarded(render.render_static),
                        [
                            P,
                            name,
                            target,
                            name in sitefiles.RELEASE_PAGES,
                            name in sitefiles.REFERENTIAL_PAGES,
                        ],
                    )
                ],
                "file_dep": [
                    render.fingerprint_path(P, name),
                    *([P.release] if name in sitefiles.RELEASE_PAGES else []),
                    *(reference.FILES if name in sitefiles.REFERENTIAL_PAGES else []),
                ],
                "targets": [P.site_file(target)],
                "clean": True,
            }
        )
    return tasks


@create_after(executed="load")
def task_sitefiles():
    """Write the search index, the sitemap, robots.txt and _headers.

    From the referential and the settings, and the list of pages without figures (out of the
    sitemap)."""
    return {
        "actions": [(guarded(sitefiles.write), [P])],
        "file_dep": [
            *reference.FILES,
            placedoc.SCHEMA,
            *codedeps.inputs(sitefiles.write),
            P.site_config,
            P.unpublished,
        ],
        "targets": list(_sitefile_targets()),
        "clean": True,
    }


@create_after(executed="load")
def task_tidy():
    """Remove from site/ what the build no longer declares, and what a killed write left.

    A narrower scope, an old asset; runs when the set of the site's files changes."""
    declared = sorted(_site_files())
    digest = hashlib.sha256("\n".join(declared).encode()).hexdigest()
    return {
        "actions": [(guarded(tidy.remove_undeclared), [P.site, set(declared)])],
        "file_dep": codedeps.inputs(tidy.remove_undeclared),
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
    return tuple(sitefiles.targets(P, places.all_places(scope())))


def task_gate():
    """Quality gate: compare the new data with the version online; a failure blocks publish."""
    return {"actions": [(guarded(_gate), [])], "task_dep": BUILD, "uptodate": [False]}


def _gate() -> None:
    gate.run(P, LIMITS, versions.published_profile(PUB))


def task_publish():
    """Build, pass the gate, then commit the site to backup/<YYYY.MM.DD.N> and the deploy branch."""
    return {
        "actions": [(guarded(_publish), [])],
        "task_dep": [*BUILD, "history", "gate"],
        "uptodate": [False],
    }


def _publish() -> None:
    done = versions.publish(P, PUB, set(_site_files()))
    if sent := versions.sent_text(PUB, done["sent"]):
        print(sent)
    github_output(version=done["version"] or "")
    if done["version"] is None:
        kept = "; its history in git is updated" if done["history_only"] else ""
        print(f"nothing to publish: the site online ({done['current']}) is identical to this build{kept}")
        return
    where = f"pushed to {PUB.remote}" if PUB.push else "not pushed (push=1 pushes)"
    print(f"published {done['version']}: {versions.summary(done)} ({done['commit'][:10]}, {where})")


def task_rollback():
    """`doit rollback:<version>` or `doit rollback:previous`; `doit rollback` alone lists the versions."""
    yield {
        "name": "list",
        "actions": [(guarded(_list_versions), [])],
        "uptodate": [False],
        "meta": {"quiet": True},  # the list is its report
    }
    asked = any(arg.startswith("rollback") for arg in sys.argv[1:])  # else no need to read git
    for name in [*versions.list_versions(PUB), "previous"] if asked else []:
        # Under `doit rollback` (or any selection of several), these run as no-ops and stay silent.
        yield {
            "name": name,
            "actions": [(guarded(_rollback), [name])],
            "uptodate": [False],
            "meta": {"only_when_named": True, "quiet": True},  # its line is its report
        }


def _list_versions() -> None:
    print("\n".join(versions.describe(PUB)))
    print("roll back with: doit rollback:<version> (or doit rollback:previous)")


def _rollback(name: str) -> None:
    if not versions.requested(sys.argv[1:], name):
        return  # part of `doit rollback`, which only lists
    done = versions.rollback(P, PUB, name)
    if sent := versions.sent_text(PUB, done["sent"]):
        print(sent)
    if done.get("unchanged"):
        print(f"{done['version']} is already online")
        return
    where = f"pushed to {PUB.remote}" if PUB.push else "not pushed (push=1 pushes)"
    changed = f"{done['files_changed']} files changed ({done['commit'][:10]}, {where})"
    print(f"rolled back to {done['version']}: {changed}")


def task_purge():
    """Purge from Cloudflare the URLs that changed online since the last purge (CF_* from the environment)."""
    return {
        "actions": [(guarded(_purge), [])],
        "uptodate": [False],
    }


def _purge() -> None:
    purge.purge(PUB, SETTINGS.site_url, purge.Cloudflare.from_env(), CFG.purge.batch, wait=CFG.purge.wait)


def task_cdn_rules():
    """Make Cloudflare send what site/_headers declares, as header rules (CF_ZONE, CF_API_TOKEN).

    `doit cdn-rules`, for hosts that ignore the file (GitHub Pages); idempotent."""
    return {"basename": "cdn-rules", "actions": [(guarded(_cdn_rules), [])], "uptodate": [False]}


def _cdn_rules() -> None:
    cdnrules.apply(purge.Cloudflare.from_env(), sitefiles.HEADERS, http.Client())


def task_notify():
    """Send the run's outcome to Slack and Discord (status=success|failure error=...); never fails."""
    return {"actions": [(guarded(_notify), [])], "uptodate": [False]}


def _notify() -> None:
    checks = gate.result(P)
    held = ""
    if CFG.outcome.status == "failure" and checks and not checks["passed"]:
        held = "quality gate: " + "; ".join(checks["failed"])
    fields = notify.summary(versions.read_record(PUB), CFG.outcome.status, CFG.outcome.error or held)
    notify.send(fields, CFG.outcome.status)


def task_health():
    """site/api/health.json and the admin dashboard site/admin/ (not indexed), from the build's files."""
    return {
        "actions": [(guarded(_health), [])],
        "file_dep": [
            P.store_manifest,
            P.imports,
            P.changes,
            P.release,
            P.site_config,
            render.fingerprint_path(P, "admin.html"),
            *codedeps.inputs(_health),
        ],
        "targets": [P.site_file(HEALTH), P.site_file(ADMIN)],
        "uptodate": [config_changed({"github_repo": GITHUB_REPO})],
        "clean": True,
    }


def _health() -> None:
    health.write(P, versions.read_record(PUB), GITHUB_REPO)
