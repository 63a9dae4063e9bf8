"""Statistics per place in DuckDB, then one canonical JSON file per place, incrementally.

The JSON files are where change detection stops: a place whose figures did not change keeps
byte-identical JSON (and its mtime), so nothing downstream of it is rebuilt. A file is a pure
function of its place's data and the method: no build time, no run id, no release label.

The pass itself is incremental. The store keeps the last computed sales and figures (`st_*`
tables) and what they were computed from (`stats_part_state`: the row signature of each part, a
commune's year, and a digest of the method, window, scope, referential and this pass's code). A
release that changed some communes' rows recomputes those parts' sales only, finds the places
whose sales differ (`st_dirty`: communes, their cities, departments, regions and France),
recomputes only their figures and rewrites only their documents; when anything global changed,
it is a full pass. Either way the bytes are those of a pass from scratch (a test applies random
releases and compares), and the stored state commits after the JSON files are written: a killed
pass leaves the previous state, which the next pass starts from again.
"""

from __future__ import annotations

import hashlib
import os
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, date, datetime
from itertools import groupby
from operator import itemgetter
from pathlib import Path
from typing import Any, cast

import orjson

from rules import codedeps, dvf, gcpause, progress, query, reference
from rules import places as pl
from rules.childwork import Child
from rules.files import canonical_json, sha256_file, write_atomic, write_if_changed
from rules.fr import NNBSP, compte, date_fr, nombre
from rules.lazy import duckdb
from rules.method import FUNNEL, Method
from rules.paths import DATA_DIRS, SUMMARY, Paths, data_file, page_url
from rules.placedoc import Figures, Metadata, PlaceDoc, has_figures
from rules.query import set_variables
from rules.settings import Settings
from rules.store import connect, create_tables, departements_present

YEAR = (  # rules/sql/ files run for each recomputed year, in order (one year in memory at a time)
    "stats_year_parts",
    "sales_deduped",
    "sales_single_good",
    "sales",
    "filter_funnel",
    "stats_dirty",  # not in a full pass: every place is recomputed
    "stats_sales",
    "stats_funnel",
)
BATCH = 4000  # documents assembled at a time: what the memory of a full pass holds
SHARE_MIN = 8000  # documents from which a pass gives half of its communes' to a child process
SHARE_CHUNK = 1000  # communes given alternately to the run and the child, so both span France
STEPS = (  # then, once: each defines a table or view the next ones read
    "place_sales",
    "place_headline",
    "place_rooms",
    "place_period",
    "place_series",
    "place_seasonality",
    "place_recent",
    "unknown_communes",
    "stats_store",
    "stats_cache",
)
TYPES = dvf.TYPES
Key = tuple[str, str]
Encoded = tuple[bytes, bool]  # a document's bytes, and whether it has figures
PLACE, TYPE_GRAIN = itemgetter(0, 1), itemgetter(2, 3)  # a fetched row's place; a series row's type and grain
Log = Callable[[str], None]
OUTPUTS = ("data_manifest", "unpublished", "changes")  # what an incremental pass builds on


@dataclass(frozen=True)
class Plan:
    """What one pass recomputes: every year and place (`full`, and why), or the changed parts
    (st_changed) of `years`, `parts` of them a year. `key` is recorded when the pass commits."""

    full: bool
    reason: str
    years: tuple[int, ...]
    key: str
    parts: tuple[int, ...] = ()


def run(
    paths: Paths, method: Method, settings: Settings, scope: frozenset[str] | None = None, log: Log = print
) -> dict[str, Any]:
    """Compute what changed, write the files whose bytes changed, record the changes in
    build/changes.json. `scope` (default: the settings' `departements`) limits every figure,
    France's included, to its departments."""
    scope = settings.scope() if scope is None else scope
    started = datetime.now(UTC)
    places = pl.all_places(scope)
    con = connect(paths, settings)
    try:
        query.run(con, "unordered")  # results are sorted when fetched
        con.begin()
        window = _window(con, method)
        plan = _plan(con, paths, method, window, scope)
        dirty = _compute(con, method, window, scope, plan)
        query.run(con, "funnel_years")
        extra = {
            "unknown": query.table(con, "unknown_communes", "code"),
            "funnel": query.table(con, "funnel_years"),
        }
        # No digest until the documents are written: a pass killed before that is followed by a full one.
        query.run(con, "stats_state_write")
        con.commit()
    finally:
        con.close()
    present = _present(paths)
    # A new connection: the computation's memory is given back. Read-only: a child process
    # assembling half of the documents reads the store beside it (documents_apart).
    con = connect(paths, settings, read_only=True)
    try:
        build = _to_build(places, plan, dirty, present)
        with gcpause.paused():  # millions of fetched rows: see rules/gcpause.py
            changes = _documents(con, paths, settings, method, window, scope, places, build, plan, present)
        changes["counts"]["recomputed"] = len(places) if plan.full else len(dirty)
        _outputs(paths, method, started, extra, changes)
    finally:
        con.close()
    con = connect(paths, settings)
    try:
        query.run(con, "stats_state_key", [plan.key])
    finally:
        con.close()
    _report(changes, plan, (datetime.now(UTC) - started).total_seconds(), log)
    if missing := _departments_without_rows(paths, scope):
        shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5:,} more" if len(missing) > 5 else "")
        which = f"{len(missing)} department{'s' * (len(missing) > 1)}"
        log(
            f"warning: no DVF row in the store for {which} of the site ({shown}): their pages show no figures"
        )
    return changes


def _departments_without_rows(paths: Paths, scope: frozenset[str]) -> list[str]:
    """The site's departments the store holds no row for (DVF's own gaps apart): a mistyped
    `departements=` builds pages without a figure, which nothing else would point out."""
    wanted = scope or frozenset(pl.departement_regions())
    return sorted(wanted - pl.NOT_IN_DVF - departements_present(paths))


def _plan(
    con: duckdb.DuckDBPyConnection,
    paths: Paths,
    method: Method,
    window: dict[str, int],
    scope: frozenset[str],
) -> Plan:
    """Full when nothing is stored yet, something global changed or an output of the last pass is
    missing; otherwise the parts (a commune's year) whose rows changed since the stored figures
    were computed (st_changed), and their years."""
    key = _key(method, window, scope)
    query.run(con, "stats_parts")
    query.run(con, "stats_state")
    create_tables(con)  # cut_parts, in a store no import has written to since it came
    query.run(con, "stats_changed")
    stored = [k for (k,) in query.rows(con, "stats_state_keys")]
    reason = ""
    if not stored:
        reason = "no stored figures"
    elif stored != [key]:
        reason = "the method, window, scope, referential or code changed"
    elif not all(getattr(paths, name).exists() for name in OUTPUTS):
        reason = "the last pass's outputs are missing"
    if reason:
        return Plan(True, reason, tuple(y for (y,) in query.rows(con, "stats_years")), key)
    changed = query.rows(con, "stats_changed_years")
    return Plan(False, "", tuple(y for y, _ in changed), key, tuple(n for _, n in changed))


def _key(method: Method, window: dict[str, int], scope: frozenset[str]) -> str:
    """The digest of everything figures depend on besides the rows: when it moves, no stored
    figure can be trusted."""
    inputs = {
        "method": method.as_dict(),
        "window": window,
        "scope": sorted(scope),
        "referential": [sha256_file(f) for f in reference.FILES],
        "code": [[f.name, sha256_file(f)] for f in codedeps.inputs(run)],
    }
    return hashlib.sha256(canonical_json(inputs)).hexdigest()


def _window(con: duckdb.DuckDBPyConnection, method: Method) -> dict[str, int]:
    """Headline window and evolution year, from the latest year of the store that holds a real
    share of its rows (see window_end.sql)."""
    end = query.first(con, "window_end")
    last = end[1] if end else date(2000, 1, 1)
    to = last.year
    # The reference year for evolutions is the last complete year (a December sale is its mark).
    full_year = last.year if last.month == 12 else last.year - 1
    return {"from": to - method.window_years + 1, "to": to, "full_year": full_year}


def _compute(
    con: duckdb.DuckDBPyConnection, method: Method, window: dict[str, int], scope: frozenset[str], plan: Plan
) -> set[Key]:
    """Recompute the plan's years' sales, then the figures of the places whose sales changed (all
    of them in a full pass) into the stored tables. Returns those places (empty in a full pass)."""
    set_variables(
        con,
        {
            **dvf.variables(),
            "scope": ",".join(sorted(scope)),  # empty: all of France
            "min_value": method.min_value,
            "max_price_m2": method.max_price_m2,
            "min_price_m2": method.min_price_m2,
            "min_surface": method.min_surface,
            "max_surface": method.max_surface,
            "window_from": window["from"],
            "window_to": window["to"],
            "window_label": f"{window['from']}-{window['to']}",
            "recent_sales": method.recent_sales,
            "grade_min": method.grade_min,
            "stat_years": list(plan.years),
            "stat_full": plan.full,
        },
    )
    if not plan.full and not plan.years:  # no row changed: the stored figures stand
        query.run(con, "unknown_communes")
        return set()
    if plan.full:
        query.run(con, "stats_reset")
        query.run(con, "place_neighbours")  # from the referential and the scope only
    query.run(con, "st_dirty")
    for year in plan.years or (0,):  # year 0, which has no rows, creates an empty store's tables
        set_variables(con, {"stat_year": year})
        for step in YEAR:
            if not (plan.full and step == "stats_dirty"):
                query.run(con, step)
    dirty: set[Key] = set(query.table(con, "st_dirty"))
    for step in STEPS:
        query.run(con, step)
    return dirty


def _present(paths: Paths) -> set[str]:
    """The JSON files in site/'s data folders before the pass writes any, as names under site/:
    listed once (not 35,000 stats), for the files to rebuild and those to remove."""
    return set().union(*(_json_names(paths.site_file(folder), folder) for folder in DATA_DIRS.values()))


def _to_build(places: dict[Key, pl.Place], plan: Plan, dirty: set[Key], present: set[str]) -> set[Key]:
    """The documents to assemble: every place in a full pass; otherwise the changed places, every
    department, region and France (a few hundred small documents, so the summary and the counts
    always come from documents), and any place whose file is missing (an emptied site/)."""
    if plan.full:
        return set(places)
    return {key for key in places if key in dirty or key[0] != "commune" or data_file(*key) not in present}


def _documents(
    con: duckdb.DuckDBPyConnection,
    paths: Paths,
    settings: Settings,
    method: Method,
    window: dict[str, int],
    scope: frozenset[str],
    places: dict[Key, pl.Place],
    build: set[Key],
    plan: Plan,
    present: set[str],
) -> dict[str, Any]:
    """Assemble and write the documents of `build`, BATCH places at a time (what a full pass holds
    in memory), keeping the departments', regions' and France's for the summary. From SHARE_MIN
    documents on, a child process assembles half of the communes' on the other core (this is
    Python, on one core: 13 s of a full France pass), and the run writes them; if it gives
    nothing, the run assembles its share too."""
    headline = _by_place(query.table(con, "st_headline"))  # every place's: parents list their children's
    figures = _figures(headline, method, places)
    keys = [key for key in places if key in build]
    writer = _Writer(paths, places, plan, len(keys), present)
    mine, theirs = _shares(keys)
    child = None
    if theirs:
        with suppress(OSError):  # no process to be had: the run does the share itself
            child = Child(__name__, "documents_apart", (paths, settings, method, window, scope, theirs))
    try:
        for docs in _assembled(con, mine, headline, method, window, scope, figures):
            writer.write(docs)
        done = child.result() if child else None
    finally:
        if child:
            child.stop()
    if done is None:  # no child, or it gave nothing: its share is done here
        for docs in _assembled(con, theirs, headline, method, window, scope, figures):
            writer.write(docs)
    else:
        writer.take(done)
    changes = writer.finish()
    changes["communes"] = sum(1 for level, _ in places if level == "commune")
    changes["published_communes"] = sum(
        1
        for (level, _), f in figures.items()
        if level == "commune" and any(t["published"] for t in f.values())
    )
    return changes


def _shares(keys: list[Key]) -> tuple[list[Key], list[Key]]:
    """The run's documents and the child's: none for the child below SHARE_MIN; else every other
    SHARE_CHUNK communes (the departments', regions' and France's stay with the run, whose summary
    is made of them)."""
    if len(keys) < SHARE_MIN:
        return keys, []
    communes = [key for key in keys if key[0] == "commune"]
    theirs = [key for i, key in enumerate(communes) if (i // SHARE_CHUNK) % 2]
    given = set(theirs)
    return [key for key in keys if key not in given], theirs


def _assembled(
    con: duckdb.DuckDBPyConnection,
    keys: list[Key],
    headline: dict[Key, dict[str, tuple]],
    method: Method,
    window: dict[str, int],
    scope: frozenset[str],
    figures: dict[Key, dict[str, dict[str, Any]]],
) -> Iterator[dict[Key, PlaceDoc]]:
    """The documents of `keys`, BATCH places at a time, from their stored figures."""
    for start in range(0, len(keys), BATCH):
        batch = keys[start : start + BATCH]
        query.run(con, "stats_build", [[level for level, _ in batch], [code for _, code in batch]])
        query.run(con, "stats_fetch")
        yield documents(_fetch(con), headline, method, window, scope, batch, figures)


def documents_apart(
    paths: Paths,
    settings: Settings,
    method: Method,
    window: dict[str, int],
    scope: frozenset[str],
    keys: list[Key],
) -> list[tuple[Key, Encoded]]:
    """A child process's share of a pass's documents (see _documents and rules/childwork.py):
    assembled and encoded, for the run to write. The run writes every file, so what changed is
    exactly what it wrote, and a child that dies has written nothing its share's redo misses."""
    places = pl.all_places(scope)
    con = connect(paths, settings, read_only=True)
    try:
        headline = _by_place(query.table(con, "st_headline"))
        figures = _figures(headline, method, places)
        done: list[tuple[Key, Encoded]] = []
        with gcpause.paused():
            for docs in _assembled(con, keys, headline, method, window, scope, figures):
                done += [(key, (canonical_json(doc), has_figures(doc))) for key, doc in docs.items()]
        return done
    finally:
        con.close()


def _fetch(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple]]:
    """The stored figures of the places being written (stats_fetch.sql), sorted, so assembling
    their documents needs no further query."""
    return {
        "rooms": query.table(con, "fetch_rooms"),
        "period": query.table(con, "fetch_period"),
        "series": query.table(con, "fetch_series"),
        "seasonality": query.table(con, "fetch_seasonality"),
        "recent": query.table(con, "fetch_recent", "code, date desc, type, surface, prix, pieces"),
        "neighbours": query.table(con, "fetch_neighbours", "code, km, neighbour"),
    }


def _by_place(headline: list[tuple]) -> dict[Key, dict[str, tuple]]:
    """The stored headline rows (level, code, type, figures...) by place and type: grouped once
    per pass, not once per batch."""
    rows: dict[Key, dict[str, tuple]] = defaultdict(dict)
    for level, code, typ, *rest in headline:
        rows[level, code][typ] = tuple(rest)
    return dict(rows)


def _figures(
    headline: dict[Key, dict[str, tuple]], method: Method, places: dict[Key, pl.Place]
) -> dict[Key, dict[str, dict[str, Any]]]:
    """Every place's headline figures per type as its parent lists them (_child) and the pass
    counts them: the count, whether published, and the median when it is, as _current gives
    them. Not _current's whole figures: 70,000 of them (with their rooms' lists) cost a release
    0.65 s, for the parents of a few thousand places."""
    out: dict[Key, dict[str, dict[str, Any]]] = {}
    for key in places:
        rows = headline.get(key, {})
        out[key] = {t: _listed(rows.get(t), method) for t in TYPES}
    return out


def _listed(row: tuple | None, method: Method) -> dict[str, Any]:
    n, grade = _graded(row, method)
    if grade is None or row is None:  # row: for the type checker (no grade without figures)
        return {"n": n, "published": False}
    return {"n": n, "published": True, "median_m2": row[1]}


def _graded(row: tuple | None, method: Method) -> tuple[int, str | None]:
    """A type's number of sales and the grade its figures are published with: none (not
    published) below grade_min sales or without headline figures. What both _current and the
    children's lists (_listed) publish by."""
    n = row[0] if row else 0
    return n, None if row is None else method.grade(n)


def documents(
    tables: dict[str, list[tuple]],
    headline: dict[Key, dict[str, tuple]],
    method: Method,
    window: dict[str, int],
    scope: frozenset[str] = frozenset(),
    only: Iterable[Key] | None = None,
    figures: dict[Key, dict[str, dict[str, Any]]] | None = None,
) -> dict[Key, PlaceDoc]:
    """Assemble one document per place (or per place of `only`) from the fetched tables and the
    headline figures by place (_by_place); `figures` (see _figures), when given, are the
    children's, computed once for all batches."""
    period = {(lv, c): rest for lv, c, *rest in tables["period"]}
    series, season = _grouped(tables["series"]), _grouped(tables["seasonality"])
    recent: dict[str, list[dict]] = defaultdict(list)
    for code, day, typ, surface, pieces, prix, prix_m2 in tables["recent"]:
        recent[code].append(
            {"date": day, "type": typ, "surface": surface, "pieces": pieces, "prix": prix, "prix_m2": prix_m2}
        )
    rooms: dict[tuple[str, str, str], dict[int, tuple]] = defaultdict(dict)
    for level, code, typ, pieces, n, median in tables["rooms"]:
        rooms[level, code, typ][pieces] = (n, median)
    places = pl.all_places(scope)
    wanted = set(places if only is None else only)
    current = {
        key: {t: _current(headline.get(key, {}).get(t), rooms.get((*key, t), {}), method) for t in TYPES}
        for key in (wanted if figures is not None else places)
    }
    children = current if figures is None else figures
    near: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for code, neighbour, km in tables["neighbours"]:
        near[code].append((neighbour, km))
    docs: dict[Key, PlaceDoc] = {}
    for key, place in places.items():
        if key not in wanted:
            continue
        doc: PlaceDoc = {
            "metadata": _metadata(place, places, near, period.get(key), method, window),
            "current_stats": current[key],
            "volumes": _volumes(place_series := series.get(key, [])),
            "series": _series(place_series, method),
            "evolution": {t: _evolution(place_series, t, window["full_year"], method) for t in TYPES},
            "seasonality": _seasonality(season.get(key, [])),
        }
        if place.level == "commune":
            doc["transactions_recent"] = recent.get(place.code, [])
        if place.children:  # a city's arrondissements too
            doc["children"] = [_child(places, children, place, c) for c in place.children]
        docs[key] = doc
    return docs


def summary(docs: dict[Key, PlaceDoc]) -> dict[str, dict[str, dict[str, Any]]]:
    """What a commune page compares itself with: each department's, region's and France's name and
    headline medians, in one small file (/data/resume.json) that every page shares and caches,
    instead of three place files of up to 100 KB each."""
    out: dict[str, dict[str, dict[str, Any]]] = {"departement": {}, "region": {}, "france": {}}
    for (level, code), doc in docs.items():
        if level != "commune":
            figures = {
                t: {k: s.get(k) for k in ("published", "median_m2", "n")}
                for t, s in doc["current_stats"].items()
            }
            out[level][code] = {"nom": doc["metadata"]["nom"], **figures}
    return out


def _current(row: tuple | None, rooms: dict[int, tuple], method: Method) -> Figures:
    """Headline figures of one type, or the reason they are not published; with a published
    headline, the median by number of rooms (1 to 5 and more; None below grade_min sales)."""
    n, grade = _graded(row, method)
    if grade is None or row is None:  # row: for the type checker (no grade without figures)
        reason = (
            f"{compte(n, 'vente')} sur la période, moins que les {nombre(method.grade_min)} "
            "nécessaires pour publier un prix fiable"
            if n
            else "aucune vente retenue sur la période"
        )
        return {"n": n, "published": False, "grade": None, "reason": reason}
    _, median, mean, q1, q3, median_surface, mean_surface = row
    out: Figures = {
        "n": n,
        "published": True,
        "grade": grade,
        "median_m2": median,
        "mean_m2": mean,
        "median_surface": median_surface,
        "mean_surface": mean_surface,
        "pieces": [  # place_rooms.sql leaves the median null below grade_min sales
            {"pieces": k, "n": rooms.get(k, (0, None))[0], "median_m2": rooms.get(k, (0, None))[1]}
            for k in range(1, 6)
        ],
    }
    if n >= method.quartiles_min:
        out["q1_m2"], out["q3_m2"] = q1, q3
    else:
        out["quartiles_reason"] = f"quartiles publiés à partir de {method.quartiles_min} ventes"
    return out


def _metadata(
    place: pl.Place,
    places: dict[Key, pl.Place],
    near: dict[str, list[tuple[str, float]]],
    period: list | None,
    method: Method,
    window: dict[str, int],
) -> Metadata:
    meta: dict[str, Any] = {
        "code": place.code,
        "nom": place.nom,
        "liaison": place.liaison,
        "level": "arrondissement" if place.kind == "arrondissement" else place.level,
        "method": method.as_dict(),
        "window": {"from": window["from"], "to": window["to"]},
        "period": dict(zip(("first_sale", "last_sale", "sales"), period, strict=True)) if period else None,
    }
    if place.level in ("commune", "departement"):
        meta["dvf_covered"] = place.departement not in pl.NOT_IN_DVF
    if place.level == "region":
        meta["dvf_covered"] = any(code not in pl.NOT_IN_DVF for code in place.children)
    if place.level == "departement" and any(
        places["commune", c].kind == "arrondissement" for c in place.children
    ):
        meta["by_arrondissement"] = True
    if place.departement:
        meta["departement"] = pl.ref(places["departement", place.departement])
    if place.region:
        meta["region"] = pl.ref(places["region", place.region])
    if place.level == "commune":
        meta["codes_postaux"] = list(place.codes_postaux)
        meta["population"] = place.population
    if place.parent:
        meta["parent"] = pl.ref(places["commune", place.parent])
    if place.level == "commune" and place.children:
        meta["arrondissements"] = [pl.ref(places["commune", c]) for c in place.children]
    if place.level == "commune":
        meta["voisines"] = [{**pl.ref(places["commune", c]), "km": km} for c, km in near.get(place.code, ())]
    if place.level == "france":
        meta["departements"] = [pl.ref(p) for (lv, _), p in places.items() if lv == "departement"]
    if place.level in ("region", "france") and (partial := pl.partial_scope(place, places)):
        meta["scope"] = partial  # a partial build: say which departments the figures cover
    return cast(Metadata, meta)


def _grouped(rows: list[tuple]) -> dict[Key, list[tuple]]:
    """A fetched table's rows by place: they come sorted (query.table), so each place's rows are
    one run, cut by groupby in C. The rows keep their level and code: copying 2.8 million series
    rows without them, in a Python loop, was a quarter of a full pass's assembly."""
    return {key: list(run) for key, run in groupby(rows, PLACE)}


def _volumes(rows: list[tuple]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for _, _, typ, grain, period, n, _ in rows:
        if grain == "annee":
            year = out.setdefault(period, {"appartement": 0, "maison": 0, "total": 0})
            year[typ] = n
            year["total"] += n
    return out


def _series(rows: list[tuple], method: Method) -> dict[str, dict[str, dict[str, list]]]:
    """Per type and grain, columns of periods, volumes and medians (None below the threshold).

    Columnar on purpose: 35,000 communes' monthly series are most of the JSON's weight. The rows
    are sorted (type, grain, period), so each column is one run, transposed by zip."""
    grains = ("annee", "trimestre", "mois")
    out: dict[str, dict[str, dict[str, list]]] = {
        t: {g: {"period": [], "n": [], "median_m2": []} for g in grains} for t in TYPES
    }
    least = method.grade_min
    for (typ, grain), run in groupby(rows, TYPE_GRAIN):
        _, _, _, _, periods, volumes, medians = zip(*run, strict=True)
        out[typ][grain] = {
            "period": list(periods),
            "n": list(volumes),
            "median_m2": [m if n >= least else None for n, m in zip(volumes, medians, strict=True)],
        }
    return out


def _evolution(rows: list[tuple], typ: str, year: int, method: Method) -> dict[str, dict[str, Any]]:
    """Change of the yearly median over 1 and 5 years, only where both ends are publishable."""
    yearly = {p: (n, m) for _, _, t, g, p, n, m in rows if t == typ and g == "annee"}
    out = {}
    for label, span in (("1y", 1), ("5y", 5)):
        start, end = str(year - span), str(year)
        a, b = yearly.get(start, (0, None)), yearly.get(end, (0, None))
        item: dict[str, Any] = {"from": start, "to": end, "pct": None}
        if min(a[0], b[0]) < method.grade_min:
            item["reason"] = (
                f"{compte(a[0], 'vente')} en {start} et {nombre(b[0])} en {end}{NNBSP}: il en faut "
                f"{nombre(method.grade_min)} chaque année pour comparer"
            )
        else:
            item["pct"] = round((b[1] - a[1]) / a[1] * 100, 1)
        out[label] = item
    return out


def _seasonality(rows: list[tuple]) -> dict[str, list[int]]:
    out = {t: [0] * 12 for t in TYPES}
    for _, _, typ, month, n in rows:
        out[typ][month - 1] = n
    return out


def _child(places: dict[Key, pl.Place], current: dict[Key, dict], parent: pl.Place, code: str) -> dict:
    """A child place as listed on its parent's page: name and headline median per type."""
    level = {"commune": "commune", "departement": "commune", "region": "departement", "france": "region"}[
        parent.level
    ]
    figures, place = current[level, code], places[level, code]
    child: dict[str, Any] = {
        "code": code,
        "nom": place.nom,
        **{t: {"n": figures[t]["n"], "median_m2": figures[t].get("median_m2")} for t in TYPES},
    }
    if parent.level == "departement" and place.children:  # Lyon, Marseille: their department's map
        child["arrondissements"] = [_child(places, current, place, a) for a in place.children]
    return child


class _Writer:
    """Writes documents batch by batch, keeping what the pass reports: the files whose bytes
    changed, the data manifest (the sha256 of every file: the others' entries are kept), the
    pages without figures, and the aggregates' documents for the summary."""

    def __init__(
        self, paths: Paths, places: dict[Key, pl.Place], plan: Plan, total: int, present: set[str]
    ) -> None:
        self.paths, self.places = paths, places
        self.present = present  # the files of DATA_DIRS before the pass (_present)
        self.changed: dict[str, list[str]] = {lv: [] for lv in pl.LEVELS}
        self.manifest: dict[str, str] = {} if plan.full else orjson.loads(paths.data_manifest.read_bytes())
        self.empty: set[str] = set() if plan.full else set(orjson.loads(paths.unpublished.read_bytes()))
        self.aggregates: dict[Key, PlaceDoc] = {}
        self.bar = progress.bar("stats", total, "places")  # the documents this pass assembles

    def write(self, docs: dict[Key, PlaceDoc]) -> None:
        for key, doc in docs.items():
            self._write(key, canonical_json(doc), has_figures(doc))
            if key[0] != "commune":
                self.aggregates[key] = doc

    def take(self, done: list[tuple[Key, Encoded]]) -> None:
        """Write the documents a child process assembled (documents_apart)."""
        for key, (data, figures) in done:
            self._write(key, data, figures)

    def _write(self, key: Key, data: bytes, figures: bool) -> None:
        """Write a document's file if its bytes changed (at once if it is new: not `present`),
        and record it."""
        name = data_file(*key)
        path = self.paths.site_name(name)
        if key[0] in DATA_DIRS and name not in self.present:  # new (a full pass into an empty site/)
            write_atomic(path, data)
            self.changed[key[0]].append(key[1])
        elif write_if_changed(path, data):
            self.changed[key[0]].append(key[1])
        self.manifest[name] = hashlib.sha256(data).hexdigest()
        url = page_url(*key)
        if figures:
            self.empty.discard(url)
        else:
            self.empty.add(url)
        self.bar.update()

    def finish(self) -> dict[str, Any]:
        """Remove the files of places that no longer exist (of those `present` before the pass);
        write the manifests; the changes."""
        self.bar.close()
        paths = self.paths
        expected = {data_file(*key) for key in self.places}  # names, not Paths: 1.2 s -> 0.1 s (France)
        removed = sorted(self.present - expected)
        for rel in removed:
            paths.site_file(rel).unlink()
            self.manifest.pop(rel, None)
        write_if_changed(paths.data_manifest, canonical_json(self.manifest))
        write_if_changed(paths.unpublished, canonical_json(sorted(self.empty)))
        write_if_changed(paths.site_file(SUMMARY), canonical_json(summary(self.aggregates)))
        previous = _previous_sales(paths.changes)
        sales = self.aggregates["france", pl.FRANCE]["metadata"]["period"]
        total = sales["sales"] if sales else 0
        written = sum(len(v) for v in self.changed.values())
        return {
            "changed": {level: sorted(codes) for level, codes in self.changed.items()},  # places' order
            "removed": removed,
            "counts": {
                "places": len(self.places),
                "written": written,
                "unchanged": len(self.places) - written,
            },
            "sales": total,
            "new_sales": total - previous if previous is not None else total,
        }


def _outputs(
    paths: Paths, method: Method, started: datetime, extra: dict[str, list[tuple]], changes: dict[str, Any]
) -> None:
    """The release text (site-wide pages), then build/changes.json."""
    store = orjson.loads(paths.store_manifest.read_bytes())
    release = {"text": release_text(store), "files": files_text(store), "method": method.as_dict()}
    write_if_changed(paths.release, canonical_json(release))
    changes["started_at"] = started.isoformat()  # build/ only: the published JSON holds no time
    changes["unknown_communes"] = dict(extra["unknown"])
    changes["funnel"] = {year: dict(zip(FUNNEL, counts, strict=True)) for year, *counts in extra["funnel"]}
    write_atomic(paths.changes, canonical_json(changes))


NOTHING_IMPORTED = "Aucune donnée DVF importée."


def release_text(store: dict) -> str:
    """The DVF data the site was built from, in French, for site-wide pages (never in place JSON):
    its files' whole span, every kind of transaction included."""
    sources = store["sources"]
    if not sources:
        return NOTHING_IMPORTED
    first = min(s["first_sale"] for s in sources)
    last = max(s["last_sale"] for s in sources)
    return (
        f"Données DVF{NNBSP}: {_rows_and_files(store)}, "
        f"mutations du {date_fr(first)} au {date_fr(last)} (toutes natures confondues)."
    )


def files_text(store: dict) -> str:
    """The same without dates, for the home page, whose first line already gives the span of the
    sales it retains."""
    return f"Source{NNBSP}: {_rows_and_files(store)} DVF." if store["sources"] else NOTHING_IMPORTED


def _rows_and_files(store: dict) -> str:
    """'2 793 lignes de 8 fichiers'. Files are counted by name: the store may hold rows of two
    versions of one file (the periods a republished file did not change keep their rows)."""
    names = {s["file"] for s in store["sources"]}
    return f"{compte(store['rows'], 'ligne')} de {compte(len(names), 'fichier')}"


def _json_names(folder: Path, prefix: str) -> set[str]:
    """The JSON files of a folder of site/, as names under site/."""
    if not folder.is_dir():
        return set()
    with os.scandir(folder) as entries:
        return {f"{prefix}/{e.name}" for e in entries if e.name.endswith(".json") and e.is_file()}


def _previous_sales(path: Path) -> int | None:
    try:
        return orjson.loads(path.read_bytes())["sales"]
    except (FileNotFoundError, KeyError, orjson.JSONDecodeError):
        return None


def _report(changes: dict[str, Any], plan: Plan, seconds: float, log: Log) -> None:
    c = changes["counts"]
    if plan.full:
        what = f"all recomputed ({plan.reason})"
    elif plan.years:
        where = ", ".join(
            f"{year} ({n:,} commune{'s' if n > 1 else ''})"
            for year, n in zip(plan.years, plan.parts, strict=True)
        )
        what = f"{c['recomputed']:,} recomputed (rows changed in {where})"
    else:
        what = "none recomputed (no row changed)"
    log(
        f"stats: {c['places']:,} places in {seconds:.1f} s, {what}, {c['written']:,} JSON files written, "
        f"{c['unchanged']:,} unchanged"
        + (f", {len(changes['removed'])} removed" if changes["removed"] else "")
    )
    unknown = changes["unknown_communes"]
    if unknown:
        shown = ", ".join(f"{k or '(vide)'} ({v})" for k, v in list(unknown.items())[:8])
        count = sum(unknown.values())
        log(f"warning: {count} stored rows have an unknown commune code and are not published: {shown}")
