"""The places we publish, read from the vendored referential (never from the data).

Every current commune and every arrondissement of Paris, Lyon and Marseille gets a page, even
with no sale (Alsace-Moselle and Mayotte have none: the page says why), so the list of places
and of their files is known before anything runs; doit can declare every target up front.
"""

from __future__ import annotations

import csv
import gzip
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

import orjson

from rules import reference
from rules.errors import ConfigError
from rules.files import write_atomic
from rules.paths import Paths, data_file

LEVELS = ("commune", "departement", "region", "france")
FRANCE = "FR"
FRANCE_LIAISON = 3  # "la France": en France, de la France
ALL = "all"  # departements=all: every department of France
# DVF has no data for Alsace-Moselle (Livre foncier) and Mayotte (DGFiP's dataset description).
NOT_IN_DVF = frozenset({"57", "67", "68", "976"})


class Place(NamedTuple):
    """One page of the site: a commune, arrondissement, city, department, region or France.
    A named tuple, not a dataclass: every `doit` makes 35,000 of them, three times faster so."""

    level: str  # commune (incl. arrondissements and cities), departement, region, france
    code: str
    nom: str
    kind: str = ""  # for communes: commune or arrondissement
    departement: str = ""
    region: str = ""
    parent: str = ""  # the city of an arrondissement
    codes_postaux: tuple[str, ...] = ()
    population: int | None = None
    children: tuple[str, ...] = ()
    liaison: int = 0  # INSEE's TNCC: the article the name takes (rules/fr.py)


def _read(path: Path) -> tuple[dict[str, int], list[list[str]]]:
    """The columns by name and the rows as lists (dicts per row cost 60 ms a `doit`)."""
    with gzip.open(path, "rt", encoding="utf-8", newline="") as f:
        rows = csv.reader(f)
        header = next(rows)
        return {name: i for i, name in enumerate(header)}, list(rows)


def records(path: Path) -> list[dict[str, str]]:
    """The rows of a small file of the referential (departments, regions) as dicts."""
    col, rows = _read(path)
    return [{name: row[i] for name, i in col.items()} for row in rows]


Places = dict[tuple[str, str], Place]
_KNOWN: dict[frozenset[str], Places] = {}  # this process's, by scope


def all_places(scope: frozenset[str] = frozenset()) -> Places:
    """Every place keyed by (level, code), in a stable order: communes, departments, regions, France.

    `scope`, when not empty, limits the site to these departments (and their regions): a regional
    site, a quick development build, or a benchmark at the scale of a department.
    """
    if scope not in _KNOWN:
        _KNOWN[scope] = _from_referential(scope)
    return _KNOWN[scope]


def remembered(scope: frozenset[str], cache_file: Path) -> Places:
    """all_places(scope), read back from `cache_file` when it was made from the same referential,
    scope and code. Every `doit` needs the places before any task runs, and reading the referential
    was a third of a no-change run (0.17 s; 0.3 s for all of France). JSON, not pickle: build/ comes
    back from a CI cache, which must never be able to run code."""
    key = _cache_key(scope)
    try:
        stored = orjson.loads(cache_file.read_bytes())
        if stored["key"] == key:
            places = {(row[0], row[1]): _place(row) for row in stored["places"]}
            _KNOWN.setdefault(scope, places)
            return _KNOWN[scope]
    except (OSError, ValueError, KeyError, TypeError):  # missing, unreadable or older: compute again
        pass
    places = all_places(scope)
    write_atomic(cache_file, orjson.dumps({"key": key, "places": [list(p) for p in places.values()]}))
    return places


def _place(row: list) -> Place:
    """A Place from its JSON array (tuples come back as lists)."""
    level, code, nom, kind, departement, region, parent, cps, population, children, liaison = row
    return Place(
        level, code, nom, kind, departement, region, parent, tuple(cps), population, tuple(children), liaison
    )


def _cache_key(scope: frozenset[str]) -> list:
    sources = [*reference.FILES, Path(__file__), Path(reference.__file__)]
    return [sorted(scope), [[s.name, s.stat().st_size, s.stat().st_mtime_ns] for s in sources]]


def _from_referential(scope: frozenset[str]) -> Places:
    departements = [d for d in records(reference.DEPARTEMENTS) if not scope or d["code"] in scope]
    kept = {d["code"] for d in departements}
    col, rows = _read(reference.COMMUNES)
    c_kind, c_dep = col["kind"], col["departement"]
    communes = [r for r in rows if r[c_dep] in kept and r[c_kind] in ("commune", "arrondissement")]
    c_code, c_parent = col["code"], col["parent"]
    arrondissements: dict[str, list[str]] = {}
    by_dep: dict[str, list[str]] = {}
    for r in communes:
        if r[c_kind] == "arrondissement":
            arrondissements.setdefault(r[c_parent], []).append(r[c_code])
        else:
            by_dep.setdefault(r[c_dep], []).append(r[c_code])
    c_nom, c_reg, c_cp, c_pop, c_tncc = (
        col[n] for n in ("nom", "region", "codes_postaux", "population", "liaison")
    )
    out: dict[tuple[str, str], Place] = {}
    for r in communes:
        code = r[c_code]
        out["commune", code] = Place(
            "commune",
            code,
            r[c_nom],
            r[c_kind],
            r[c_dep],
            r[c_reg],
            r[c_parent],
            tuple(r[c_cp].split()),
            int(r[c_pop]) if r[c_pop] else None,
            tuple(arrondissements.get(code, ())),
            int(r[c_tncc]),
        )
    for dep, codes in by_dep.items():
        if len(codes) == 1 and codes[0] in arrondissements:  # a department that is one city: Paris
            by_dep[dep] = arrondissements[codes[0]]
    for d in departements:
        out["departement", d["code"]] = Place(
            "departement",
            d["code"],
            d["nom"],
            departement=d["code"],
            region=d["region"],
            children=tuple(by_dep.get(d["code"], ())),
            liaison=int(d["liaison"]),
        )
    for g in records(reference.REGIONS):
        deps = tuple(d["code"] for d in departements if d["region"] == g["code"])
        if deps:
            out["region", g["code"]] = Place(
                "region", g["code"], g["nom"], region=g["code"], children=deps, liaison=int(g["liaison"])
            )
    regions = tuple(code for level, code in out if level == "region")
    out["france", FRANCE] = Place("france", FRANCE, "France", children=regions, liaison=FRANCE_LIAISON)
    return out


def resolve_scope(value: str, present: frozenset[str] | None) -> frozenset[str]:
    """The departments a build covers (empty: all of France). `departements=` when given (`all`,
    or a list of codes); otherwise the departments `present` in the data (None: all, what following
    data.gouv.fr means), or all of France while nothing is imported yet."""
    if value.strip():
        return parse_scope(value)
    return present or frozenset()


def partial_scope(place: Place, places: dict[tuple[str, str], Place]) -> list[dict[str, Any]]:
    """The departments a region's or France's figures cover, when a scoped build leaves some of
    its departments out; empty when the place is complete."""
    every = departement_regions()
    if place.level == "region":
        wanted = {code for code, region in every.items() if region == place.code}
    else:
        wanted = set(every)
    present = [p for (level, code), p in places.items() if level == "departement" and code in wanted]
    if len(present) == len(wanted):
        return []
    return [ref(p) for p in present]


@cache
def departement_regions() -> dict[str, str]:
    """Every department of France and its region, not only the site's: what a scoped build
    compares its own with (all_places() would read 35,000 communes: 0.2 s a scoped `doit`)."""
    return {d["code"]: d["region"] for d in records(reference.DEPARTEMENTS)}


def ref(place: Place) -> dict[str, Any]:
    """How a page's JSON names another place: its code, its name and the article it takes."""
    return {"code": place.code, "nom": place.nom, "liaison": place.liaison}


def parse_scope(value: str) -> frozenset[str]:
    """`departements=01,75` -> {"01", "75"}; unknown codes are a ConfigError; `all` (or empty) means
    all of France."""
    if value.strip().lower() == ALL:
        return frozenset()
    codes = frozenset(c.strip().upper() for c in value.split(",") if c.strip())
    known = {d["code"] for d in records(reference.DEPARTEMENTS)}
    if unknown := sorted(codes - known):
        raise ConfigError(f"departements={value}: unknown department code {', '.join(unknown)}")
    return codes


def json_file(paths: Paths, level: str, code: str) -> str:
    """Where a place's JSON lives, as a string (what doit declares 70,000 times a run)."""
    return paths.site_name(data_file(level, code))


def json_path(paths: Paths, level: str, code: str) -> Path:
    """Where a place's JSON lives under site/data/."""
    return Path(json_file(paths, level, code))
