"""Render pages from per-place JSON with Jinja (StrictUndefined, autoescaping, atomic writes).

Rendering never queries the database: a page is a function of its JSON file, the referential
and the templates. Template dependencies are computed by following extends/include/import, so
editing a template re-renders exactly the pages that use it.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import orjson

from rules import charts, codedeps, dvf
from rules import paths as pages
from rules import places as pl
from rules.files import canonical_json, write_if_changed
from rules.fr import date_fr, euros, nombre, pct
from rules.lazy import jinja2
from rules.paths import ROOT, TEMPLATES, Paths
from rules.site import SiteConfig
from rules.site import load as load_site

GRADE_LABELS = {"elevee": "élevée", "bonne": "bonne", "indicative": "indicative"}
PAGE_TEMPLATES = {
    "commune": "commune.html",
    "departement": "departement.html",
    "region": "region.html",
    "france": "index.html",
}


@cache
def env() -> jinja2.Environment:
    e = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        undefined=jinja2.StrictUndefined,
        autoescape=jinja2.select_autoescape(["html", "xml"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    e.filters.update(euros=euros, nombre=nombre, date_fr=date_fr, pct=pct)
    e.globals.update(TYPES=dvf.TYPES, TYPE_LABELS=dvf.TYPE_LABELS, GRADE_LABELS=GRADE_LABELS)
    return e


def template_deps(name: str, cache_file: Path | None = None) -> tuple[Path, ...]:
    """The template file and every template it reaches through extends, include and import, as
    Jinja finds them. Each template's references are remembered in `cache_file` with its size and
    mtime: parsing the templates is 0.2 s of every `doit`, and a reference changes only with its file."""
    refs = _references(cache_file)
    seen: dict[str, Path] = {}
    todo = [name]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen[current] = TEMPLATES / current
        todo.extend(refs(current))
    return tuple(sorted(seen.values()))


@cache
def _references(cache_file: Path | None) -> Callable[[str], list[str]]:
    known: dict[str, Any] = (
        orjson.loads(cache_file.read_bytes()) if cache_file and cache_file.exists() else {}
    )

    def refs(template: str) -> list[str]:
        stat = (TEMPLATES / template).stat()
        key = [stat.st_mtime_ns, stat.st_size]
        entry = known.get(template)
        if entry and entry[0] == key:
            return entry[1]
        from jinja2.meta import find_referenced_templates  # only when a template changed

        ast = env().parse((TEMPLATES / template).read_text("utf-8"))
        found = sorted(t for t in find_referenced_templates(ast) if t)
        known[template] = [key, found]
        if cache_file:
            write_if_changed(cache_file, canonical_json(known))
        return found

    return refs


def fingerprint_inputs(template: str, paths: Paths) -> list[Path]:
    """Everything a page made from `template` depends on besides its data: the templates it
    reaches, the code that renders it (this module and all it imports) and the site settings
    (URL, scope, asset names)."""
    deps = template_deps(template, paths.template_refs)
    return [*deps, *codedeps.inputs(sys.modules[__name__]), paths.site_config]


def fingerprint_path(paths: Paths, template: str) -> Path:
    return paths.fingerprint(template)


def write_fingerprint(target: Path, inputs: list[Path]) -> None:
    """One content hash standing for all of a template's inputs, rewritten only when it changes.

    35,000 pages then depend on two files each (their JSON and this), not nine: doit's no-change
    run stats 70,000 files instead of 315,000, with the same meaning."""
    h = hashlib.sha256()
    for path in sorted(inputs):
        label = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name  # build/ may be anywhere
        h.update(str(label).encode() + b"\0" + path.read_bytes() + b"\0")
    write_if_changed(target, h.hexdigest().encode() + b"\n")


def page_file(paths: Paths, level: str, code: str) -> str:
    """Where a place's page lives (/ville/<code>/, /departement/<code>/, /region/<code>/, /), as a
    string for doit's 35,000 declarations."""
    return paths.site_name(pages.page_file(level, code))


def page_path(paths: Paths, level: str, code: str) -> Path:
    return Path(page_file(paths, level, code))


url = pages.page_url


def render_place(paths: Paths, level: str, code: str) -> bool:
    """Render one place's page from its JSON alone; returns True when the page's bytes changed."""
    site = load_site(paths.site_config)
    doc = orjson.loads(pl.json_path(paths, level, code).read_bytes())
    page_url = url(level, code)
    context: dict[str, Any] = {"doc": doc, "site": site, "url": page_url, **_extras(doc, site, page_url)}
    if level == "france":
        context["release"] = release_text(paths)
        context["departements"] = doc["metadata"]["departements"]
    html = env().get_template(PAGE_TEMPLATES[level]).render(context)
    return write_if_changed(page_path(paths, level, code), html.encode("utf-8"))


def render_static(paths: Paths, name: str, target: str, with_release: bool = False) -> bool:
    """Render a page that is not a place (methodology, legal notice, 404). Only the pages that
    state the DVF release read build/release.json, and only they declare it as an input."""
    context: dict[str, Any] = {
        "site": load_site(paths.site_config),
        "url": "/" + target.removesuffix("index.html"),
    }
    if with_release:
        release = orjson.loads(paths.release.read_bytes())
        context.update(release=release["text"], method=release["method"])
    html = env().get_template(name).render(context)
    return write_if_changed(paths.site_file(target), html.encode("utf-8"))


def release_text(paths: Paths) -> str:
    return orjson.loads(paths.release.read_bytes())["text"]


def _extras(doc: dict, site: SiteConfig, page_url: str) -> dict[str, Any]:
    """Derived context: charts, breadcrumbs and structured data, from the JSON alone."""
    meta = doc["metadata"]
    crumbs = [] if meta["level"] == "france" else [("France", "/")]
    if "region" in meta and meta["level"] != "region":
        crumbs.append((meta["region"]["nom"], url("region", meta["region"]["code"])))
    if "departement" in meta and meta["level"] != "departement":
        crumbs.append((meta["departement"]["nom"], url("departement", meta["departement"]["code"])))
    if "parent" in meta:
        crumbs.append((meta["parent"]["nom"], url("commune", meta["parent"]["code"])))
    return {
        "crumbs": crumbs,
        "chart_years": charts.price_chart(doc["series"], "annee", "Médiane du prix au m² par année"),
        "chart_months": charts.price_chart(doc["series"], "mois", "Médiane du prix au m² par mois"),
        "chart_volumes": charts.volume_chart(doc["volumes"]),
        "tables": {grain: _table_rows(doc["series"], grain) for grain in ("annee", "trimestre")},
        "levels_url": {lv: url(lv, meta[lv]["code"]) for lv in ("departement", "region") if lv in meta},
        "jsonld": _jsonld(meta, crumbs, site, page_url),
    }


def _table_rows(series: dict, grain: str) -> list[tuple]:
    """(period, flats sold, flats median, houses sold, houses median) per period, oldest first."""
    by_period: dict[str, list] = {}
    for i, typ in enumerate(dvf.TYPES):
        col = series[typ][grain]
        for period, n, median in zip(col["period"], col["n"], col["median_m2"], strict=True):
            by_period.setdefault(period, [0, None, 0, None])[2 * i : 2 * i + 2] = [n, median]
    return [(period, *values) for period, values in sorted(by_period.items())]


def _jsonld(meta: dict, crumbs: list[tuple[str, str]], site: SiteConfig, page_url: str) -> dict:
    """schema.org Place (with its postal address) and its breadcrumb trail."""
    place: dict[str, Any] = {"@type": "Place", "name": meta["nom"], "url": site.url + page_url}
    if meta.get("codes_postaux"):
        place["address"] = {
            "@type": "PostalAddress",
            "postalCode": meta["codes_postaux"][0],
            "addressLocality": meta["nom"],
            "addressRegion": meta["region"]["nom"],
            "addressCountry": "FR",
        }
    trail = [*crumbs, (meta["nom"], page_url)]
    breadcrumb = {
        "@type": "BreadcrumbList",
        "itemListElement": [
            {"@type": "ListItem", "position": i, "name": name, "item": site.url + href}
            for i, (name, href) in enumerate(trail, start=1)
        ],
    }
    return {"@context": "https://schema.org", "@graph": [place, breadcrumb]}
