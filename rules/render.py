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
from markupsafe import Markup, escape

from rules import charts, codedeps, contours, dvf, fr, maps, prerender
from rules import paths as pages
from rules import places as pl
from rules.files import canonical_json, read_task_input, write_if_changed
from rules.fr import date_fr, euros, nombre, pct
from rules.lazy import jinja2
from rules.paths import ROOT, SUMMARY, TEMPLATES, Paths
from rules.placedoc import has_figures
from rules.site import SiteConfig
from rules.site import load as load_site
from rules.templatecache import template_cache

GRADE_LABELS = {"elevee": "élevée", "bonne": "bonne", "indicative": "indicative"}
PAGE_TEMPLATES = {
    "commune": "commune.html",
    "departement": "departement.html",
    "region": "region.html",
    "france": "index.html",
}


DICT_ATTRIBUTES = frozenset(dir(dict))


def _code_digest() -> bytes:
    """What compiled templates depend on besides their source: the environment's settings and the
    filters Jinja may run while compiling (on constants), i.e. this module and all it imports."""
    h = hashlib.sha256()
    for path in codedeps.inputs(sys.modules[__name__]):
        h.update(path.read_bytes())
    return h.digest()


@cache
def env() -> jinja2.Environment:
    """The site's Jinja environment. Templates are not reloaded within a run (a run renders
    after the templates' fingerprint is computed; checking their mtime was 4 % of a page)."""

    class Environment(jinja2.Environment):
        def getattr(self, obj: Any, attribute: str) -> Any:
            """`doc.metadata` reads the key at once: Jinja tries the attribute first and, on a
            dict, pays for an AttributeError (9 % of a page). The same lookup, in a cheaper
            order: a dict's own attributes (`.get`, `.items`) still win over its keys."""
            if type(obj) is dict and attribute not in DICT_ATTRIBUTES:
                try:
                    return obj[attribute]
                except KeyError:
                    return self.undefined(obj=obj, name=attribute)
            return super().getattr(obj, attribute)

    e = Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        undefined=jinja2.StrictUndefined,
        autoescape=jinja2.select_autoescape(["html", "xml"]),
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
        bytecode_cache=template_cache(_code_digest()),
    )
    e.policies["json.dumps_function"] = _json_text  # tojson: 6 % of a page with the json module
    e.filters.update(euros=euros, nombre=nombre, date_fr=date_fr, pct=pct, typo=fr.typo, compte=fr.compte)
    e.filters.update(du_au=fr.du_au, date_heure=fr.date_heure, lettres=fr.lettres, km=fr.km)
    e.filters.update(period=fr.periode, par_nom=lambda refs: sorted(refs, key=lambda r: fr.cle(r["nom"])))
    e.filters.update(a=_named(fr.a), de=_named(fr.de), le=_named(fr.le), par_ventes=by_sales)
    e.globals.update(TYPES=dvf.TYPES, TYPE_LABELS=dvf.TYPE_LABELS, GRADE_LABELS=GRADE_LABELS)
    e.globals.update(explorer_rows=explorer_rows, child_cell=child_cell, no_evolution=no_evolution)
    e.globals.update(series_rows=series_rows, season_rows=season_rows)
    return e


def explorer_rows(rows: list[dict]) -> Markup:
    """The rows of a department's table of communes, as the template wrote them: a department
    lists a few hundred communes, and this loop as a Jinja macro (two macro calls and a dozen
    escaped values a row) was 40 % of a department page's time. Names and codes are escaped;
    numbers, written by fr, hold digits, spaces and commas only."""
    out = []
    for c in rows:
        figures = [c[typ] for typ in dvf.TYPES]
        n = sum(f["n"] for f in figures)
        data = "".join(
            f' data-{typ}="{"" if f["median_m2"] is None else f["median_m2"]}"'
            for typ, f in zip(dvf.TYPES, figures, strict=True)
        )
        cells = "".join(f"<td>{child_cell(f, '')}</td>" for f in figures)
        out.append(
            f'<tr data-n="{n}"{data}><th scope="row"><a href="/ville/{escape(c["code"])}/">'
            f"{escape(fr.typo(c['nom']))}</a></th>{cells}<td>{nombre(n)}</td></tr>\n"
        )
    return Markup("".join(out))


def series_rows(rows: list[tuple]) -> Markup:
    """The rows of a page's tables by year and by quarter (`_table_rows`), as the template wrote
    them: five escaped values and three filters a row, 25 rows a page, were a fifth of a commune
    page's time. The period is escaped; numbers, written by fr, hold digits, spaces, commas, € and
    a dash only."""
    return Markup(
        "".join(
            f'    <tr><th scope="row">{escape(fr.periode(period, True))}</th><td>{nombre(n_flats)}</td>'
            f"<td>{euros(flats, '/m²')}</td><td>{nombre(n_houses)}</td><td>{euros(houses, '/m²')}</td></tr>\n"
            for period, n_flats, flats, n_houses, houses in rows
        )
    )


def season_rows(season: dict[str, list[int]]) -> Markup:
    """The rows of a page's sales by month of the year, as the template wrote them (36 escaped
    values a page). Month names are fr's; counts hold digits and spaces only."""
    flats, houses = season["appartement"], season["maison"]
    return Markup(
        "".join(
            f'  <tr><th scope="row">{month}</th>'
            f"<td>{nombre(flats[i])}</td><td>{nombre(houses[i])}</td></tr>\n"
            for i, month in enumerate(fr.MONTHS)
        )
    )


def child_cell(figure: dict, unit: str = "/m²") -> Markup:
    """A median and, beside it, its number of sales (or why there is none), in a table cell: the
    tables of communes, of arrondissements and of rooms. Numbers only: nothing to escape."""
    if figure["median_m2"] is not None:
        return Markup(f"{euros(figure['median_m2'], unit)} <small>({nombre(figure['n'])})</small>")
    if figure["n"]:
        return Markup(f"<small>non publié ({nombre(figure['n'])})</small>")
    return Markup("—")


def no_evolution(doc: dict) -> str:
    """Why a page shows no change over a year, with the sales each end has: a department whose data
    stop in 2021 is not told it needs 15 sales in 2022 and 2023 without being told it has none."""
    span = doc["evolution"][dvf.TYPES[0]]["1y"]
    start, end = span["from"], span["to"]
    counts = []
    for typ in dvf.TYPES:
        years = doc["series"][typ]["annee"]
        yearly = dict(zip(years["period"], years["n"], strict=True))
        counts.append((typ, yearly.get(start, 0), yearly.get(end, 0)))
    head = f"Évolution de {start} à {end} non calculée{S}: "
    if not any(a or b for _, a, b in counts):
        return head + f"aucune vente d’appartement ou de maison n’est recensée ici en {start} ni en {end}."
    least = fr.compte(doc["metadata"]["method"]["grade_min"], "vente")
    said = f"{S}; ".join(
        f"{dvf.TYPE_LABELS[t].lower()}{S}: {nombre(a)} puis {nombre(b)}" for t, a, b in counts
    )
    return head + f"il faut au moins {least} d’un même type chaque année (ici, {said})."


def _json_text(value: Any, **_: Any) -> str:
    """`tojson` with orjson: keys sorted as Jinja's default asks; Jinja then escapes <, >, & and '."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def by_sales(children: list[dict]) -> list[dict]:
    """A place's children, most sales first (flats and houses together), then by name."""
    return sorted(children, key=lambda c: (-sum(c[t]["n"] for t in dvf.TYPES), fr.cle(c["nom"])))


def _named(form: Callable[[str, int, str, str], str]) -> Callable[..., str]:
    """A Jinja filter giving a place of the JSON (its `nom` and `liaison`) with its article or
    preposition: `{{ meta|a }}` -> "au Havre", `{{ meta.departement|de("departement") }}` -> "de l’Ain"."""

    def apply(ref: dict[str, Any], level: str | None = None) -> str:
        return form(ref["nom"], ref["liaison"], level or ref.get("level", "commune"), ref["code"])

    return apply


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


url = pages.page_url


def render_place(paths: Paths, level: str, code: str) -> bool:
    """Render one place's page from its JSON alone; returns True when the page's bytes changed.
    The bytes may have been computed ahead, from the same JSON, on the other core (prerender)."""
    json_file = pl.json_file(paths, level, code)
    html = prerender.take(level, code, json_file)
    if html is None:
        html = page_html(paths, level, code, read_task_input(json_file))
    return write_if_changed(page_file(paths, level, code), html)


def page_html(paths: Paths, level: str, code: str, raw: bytes) -> bytes:
    """A place's page from its JSON's bytes `raw` (and the summary, release and map shapes it shows)."""
    site = load_site(paths.site_config)
    doc = orjson.loads(raw)
    page_url = url(level, code)
    context: dict[str, Any] = {"doc": doc, "site": site, "url": page_url, **_extras(doc, site, page_url)}
    if level == "france":
        context["release"] = _release(paths)["files"]  # the dates are on the period line above
        context["departements"] = doc["metadata"]["departements"]
    context["carte"] = carte(doc, _summary(paths) if level == "france" else None, paths.map_geometries)
    return env().get_template(PAGE_TEMPLATES[level]).render(context).encode("utf-8")


def render_static(
    paths: Paths, name: str, target: str, with_release: bool = False, with_departements: bool = False
) -> bool:
    """Render a page that is not a place (methodology, legal notice, 404). Only the pages that
    state the DVF release read build/release.json, only those that list the departments read the
    referential, and only they declare it as an input."""
    site = load_site(paths.site_config)
    context: dict[str, Any] = {"site": site, "url": "/" + target.removesuffix("index.html")}
    if with_departements:
        places = pl.all_places(site.scope)
        context["departements"] = [p for (level, _), p in places.items() if level == "departement"]
    if with_release:
        release = _release(paths)
        context.update(release=release["text"], method=release["method"])
    html = env().get_template(name).render(context)
    return write_if_changed(paths.site_file(target), html.encode("utf-8"))


def page_inputs(paths: Paths, level: str, code: str, fingerprint: str) -> list[str | Path]:
    """Every input of a place's page, as its doit task declares them: its JSON, the fingerprint
    of its template's inputs (`fingerprint`, computed once per level by the caller: 35,000
    pages), the DVF release for the home page, which states it, and what its map reads."""
    deps: list[str | Path] = [pl.json_file(paths, level, code), fingerprint]
    if level == "france":
        deps.append(paths.release)
    return deps + map_inputs(level, code, paths)


def map_inputs(level: str, code: str, paths: Paths) -> list[str]:
    """What a place's map reads besides its JSON: its contours, and for France the departments'
    figures (/data/resume.json); nothing for a place without a map."""
    file = contours.for_place(level, code)
    if file is None:
        return []
    return [str(file), *([paths.site_name(SUMMARY)] if level == "france" else [])]


def carte(doc: dict, summary: dict | None = None, geometries: Path | None = None) -> dict[str, Any] | None:
    """The page's map (rules/maps.py), from figures the page already holds: a department's
    communes, a city's arrondissements, a region's departments; France's departments from the
    summary. None for a commune, an overseas department or region (no contours, or one shape).
    Shapes drawn before are read back from `geometries` (a folder of build/)."""
    meta = doc["metadata"]
    level, code = meta["level"], meta["code"]
    file = contours.for_place(level, code)
    region_of = pl.departement_regions()
    if file is None or (level == "region" and list(region_of.values()).count(code) < 2):
        return None
    children, unit, folder = _mapped(doc, summary)
    items = [
        maps.Item(
            c["code"],
            fr.typo(c["nom"]),
            f"/{folder}/{c['code']}/",
            {t: c[t].get("median_m2") for t in dvf.TYPES},
            {t: c[t]["n"] for t in dvf.TYPES},
            (c["code"] if folder == "departement" else meta.get("departement", {}).get("code"))
            not in pl.NOT_IN_DVF,
        )
        for c in children
    ]
    shown = {c["code"] for c in children}
    others = [  # the departments a partial site leaves out, drawn plain
        c
        for c, r in region_of.items()
        if c not in shown and (level == "france" or (level == "region" and r == code))
    ]
    whose = "" if level == "france" else " " + fr.de(meta["nom"], meta["liaison"], level, code)
    title = f"Prix médian au m² dans chaque {unit}{whose}"
    fitted = maps.GeometryCache(geometries, file) if geometries else None
    return maps.draw(items, contours.load(file), title, unit, others, level == "france", fitted)


def _mapped(doc: dict, summary: dict | None) -> tuple[list[dict], str, str]:
    """The places a map shows, with their figures, what they are, and their pages' folder."""
    meta = doc["metadata"]
    if meta["level"] == "france":
        assert summary is not None
        return [{"code": c, **d} for c, d in summary["departement"].items()], "département", "departement"
    if meta["level"] == "region":
        return doc["children"], "département", "departement"
    by_arrondissement = meta["level"] == "commune" or meta.get("by_arrondissement")
    shown = [a for c in doc["children"] for a in c.get("arrondissements", [c])]  # Lyon, Marseille
    return shown, "arrondissement" if by_arrondissement else "commune", "ville"


def _summary(paths: Paths) -> dict[str, Any]:
    return orjson.loads(paths.site_file(SUMMARY).read_bytes())


def _release(paths: Paths) -> dict[str, Any]:
    """build/release.json: the DVF data and the method, as stats wrote them for site-wide pages."""
    return orjson.loads(paths.release.read_bytes())


def _extras(doc: dict, site: SiteConfig, page_url: str) -> dict[str, Any]:
    """Derived context: charts, breadcrumbs, title and structured data, from the JSON alone."""
    meta = doc["metadata"]
    crumbs, figures = _crumbs(meta), has_figures(doc)
    context = {
        "crumbs": crumbs,
        "title": title(meta),
        "lieu": lieu(meta) if meta["level"] in ("commune", "arrondissement") else "",
        "empty": None if figures else empty_text(doc),
        "scope_note": scope_note(meta),
        "figures": figures,
        "years": _years(meta),
        "levels_url": {lv: url(lv, meta[lv]["code"]) for lv in ("departement", "region") if lv in meta},
        "compare": _compare_levels(meta),
        "jsonld": _jsonld(meta, crumbs, site, page_url),
    }
    if figures:  # most pages of France have none: their charts and tables are not drawn at all
        context |= _figures(doc)
    if meta["level"] in ("commune", "arrondissement"):  # only commune pages have the range
        context["estimate_figures"] = estimate_figures(doc["current_stats"])
    return context


def estimate_figures(current: dict) -> dict[str, dict[str, Any]]:
    """What the estimate form computes from (app.js), per type whose quartiles are published:
    quartiles, median, sales, and (pieces, sales, median or None) by number of rooms."""
    return {
        t: {
            "q1": s["q1_m2"],
            "median": s["median_m2"],
            "q3": s["q3_m2"],
            "n": s["n"],
            "pieces": [[p["pieces"], p["n"], p["median_m2"]] for p in s.get("pieces", [])],
        }
        for t, s in current.items()
        if s.get("q1_m2") is not None
    }


def _figures(doc: dict) -> dict[str, Any]:
    """The charts and tables of a page that publishes figures."""
    series = doc["series"]
    return {
        "monthly_types": [t for t in dvf.TYPES if any(m is not None for m in series[t]["mois"]["median_m2"])],
        "chart_years": charts.price_chart(series, "annee", "Prix médian au m² par année"),
        "chart_months": charts.price_chart(series, "mois", "Prix médian au m² par mois"),
        "chart_volumes": charts.volume_chart(doc["volumes"]),
        "tables": {grain: _table_rows(series, grain) for grain in ("annee", "trimestre")},
    }


def _crumbs(meta: dict) -> list[tuple[str, str]]:
    """France › region › department › city, without saying a name twice: Mayotte is a region and
    its department, Paris a department and its city."""
    level = meta["level"]
    crumbs = [] if level == "france" else [("France", "/")]
    names = {meta["nom"], meta.get("parent", {}).get("nom")}
    dep = meta.get("departement")
    if "region" in meta and level != "region" and meta["region"]["nom"] not in names | {dep and dep["nom"]}:
        crumbs.append((meta["region"]["nom"], url("region", meta["region"]["code"])))
    if dep and level != "departement" and dep["nom"] not in names:
        crumbs.append((dep["nom"], url("departement", dep["code"])))
    if "parent" in meta:
        crumbs.append((meta["parent"]["nom"], url("commune", meta["parent"]["code"])))
    return [(fr.typo(name), href) for name, href in crumbs]


def _compare_levels(meta: dict) -> list[dict[str, Any]]:
    """The places a commune is compared with (its department, region, France), each once: Paris
    is not compared with the department of Paris, nor Mayotte's department with its region."""
    out: list[dict[str, Any]] = []
    for level in ("departement", "region"):
        ref = meta.get(level)
        if ref and ref["nom"] != meta["nom"] and all(ref["nom"] != o["nom"] for o in out):
            out.append({**ref, "level": level, "url": url(level, ref["code"])})
    return [
        *out,
        {"code": pl.FRANCE, "nom": "France", "liaison": pl.FRANCE_LIAISON, "level": "france", "url": "/"},
    ]


TITLE_MAX = 65  # characters: what search results show before cutting
SUFFIX = " | ImmoStats"


S = fr.NNBSP  # before a colon


def empty_text(doc: dict) -> tuple[str, list[str]]:
    """The heading and paragraphs of a page without any figure: why, said once, in French."""
    meta = doc["metadata"]
    where = fr.a(meta["nom"], meta["liaison"], meta["level"], meta["code"])
    if not meta.get("dvf_covered", True):
        return _not_covered(meta, where)
    counts = {t: doc["current_stats"][t]["n"] for t in dvf.TYPES}
    total, years = sum(counts.values()), _years(meta)
    if not total:
        return f"Pas de prix publié{S}: aucune vente", [
            f"Aucune vente d’appartement ou de maison n’est recensée dans DVF {where} {years}, hors "
            f"ventes de plusieurs biens en un seul acte{S}: aucun prix ne peut être calculé."
        ]
    if total == 1:
        what = "une maison" if counts["maison"] else "un appartement"
        held = f"Les données DVF ne recensent {where} qu’une seule vente retenue {years}{S}: {what}."
    else:
        kinds = [fr.compte(n, t) for t, n in counts.items() if n]
        only = "uniquement des maisons" if counts["maison"] else "uniquement des appartements"
        split = " et ".join(kinds) if len(kinds) > 1 else only
        sales = fr.compte(total, "vente retenue", "ventes retenues")
        held = f"Les données DVF ne recensent {where} que {sales} {years}{S}: {split}."
    threshold = fr.compte(meta["method"]["grade_min"], "vente")
    return f"Pas de prix publié{S}: trop peu de ventes", [
        held,
        f"Un prix médian n’est publié qu’à partir de {threshold} d’un même type sur la période{S}: "
        "en dessous, une ou deux ventes atypiques suffiraient à le fausser.",
    ]


def _not_covered(meta: dict, where: str) -> tuple[str, list[str]]:
    """Mayotte, and Alsace-Moselle, whose sales are not in DVF."""
    dep = meta if meta["level"] == "departement" else meta.get("departement")
    if dep is None or dep["code"] == "976":  # the region of Mayotte has no `departement`
        return f"Pas de prix{S}: DVF ne couvre pas Mayotte", [
            f"La DGFiP ne publie pas les ventes de Mayotte dans DVF{S}: aucun prix ne peut donc être calculé."
        ]
    name = fr.le(dep["nom"], dep["liaison"], "departement")
    return f"Pas de prix{S}: DVF ne couvre pas {name}", [
        "En Alsace et en Moselle, les ventes sont inscrites au livre foncier, tenu hors de la DGFiP"
        f"{S}: DVF n’en contient aucune, et aucun prix ne peut donc être calculé {where}."
    ]


def scope_note(meta: dict) -> str:
    """A partial France or region says which departments its figures come from."""
    scope = meta.get("scope")
    if not scope:
        return ""
    covered = [d for d in scope if d["code"] not in pl.NOT_IN_DVF]
    missing = [d for d in scope if d["code"] in pl.NOT_IN_DVF]
    here = "dans cette région, ce site" if meta["level"] == "region" else "ce site"
    note = f"Chiffres partiels{S}: {here} ne couvre que {_list(covered)}." if covered else ""
    if missing:
        verb = "figure" if len(missing) == 1 else "figurent"
        note += f" {_list(missing)} {verb} aussi, mais DVF n’y publie aucune vente."
    return note.strip()


def _list(deps: list[dict]) -> str:
    """l’Ain (01), les Pyrénées-Atlantiques (64) et Paris (75)."""
    names = [f"{fr.le(d['nom'], d['liaison'], 'departement')} ({d['code']})" for d in deps]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " et " + names[-1]


def qualifier(meta: dict) -> str:
    """What follows a commune's name in its title and heading: its postcode when it has one, else
    its department's name (a city with several postcodes), nothing when that is its own name."""
    cps = meta["codes_postaux"]
    if len(cps) == 1:
        return f" ({cps[0]})"
    dep = meta["departement"]["nom"]
    return "" if dep == meta["nom"] else f" ({fr.typo(dep)})"


def lieu(meta: dict, where: str | None = None) -> str:
    """'à Bourg-en-Bresse (01000)': a commune with its preposition and qualifier, in one pair of
    brackets when its name has its own: 'à Castillon (canton d’Arthez-de-Béarn, 64370)'. `where`
    (a title's short form, 'à Paris 15e') stands for the place's own 'à ...'."""
    where = where or fr.a(meta["nom"], meta["liaison"], meta["level"], meta["code"])
    what = qualifier(meta)
    if where.endswith(")") and what.startswith(" ("):
        return f"{where[:-1]}, {what[2:]}"
    return where + what


def title(meta: dict) -> str:
    """The page's <title>: the first of a few forms that fits in TITLE_MAX characters, else the
    last one cut at a word."""
    level = meta["level"]
    if level == "france":
        return f"ImmoStats{fr.NNBSP}: prix de l’immobilier par commune en France"
    if level in ("commune", "arrondissement"):
        nom = fr.court(meta["nom"]) if level == "arrondissement" else meta["nom"]
        bare = fr.a(nom, meta["liaison"])
        place = lieu(meta, bare)
        forms = [
            f"Prix de l’immobilier {place}{SUFFIX}",
            f"Prix de l’immobilier {place}",
            f"Prix au m² {place}",
            f"Prix de l’immobilier {bare}",
            f"Prix au m² {bare}",
        ]
    else:
        where = fr.a(meta["nom"], meta["liaison"], level, meta["code"])
        suffix = f" ({meta['code']})" if level == "departement" else ""
        if meta.get("by_arrondissement"):
            suffix += ", par arrondissement"
        forms = [
            f"Prix de l’immobilier {where}{suffix}{SUFFIX}",
            f"Prix de l’immobilier {where}{suffix}",
            f"Prix au m² {where}{suffix}",
            f"Prix au m² {where}",
        ]
    fits = next((f for f in forms if len(f) <= TITLE_MAX), None)
    if fits:
        return fits
    cut = forms[-1][: TITLE_MAX - 1]
    at_word = cut.rsplit(" ", 1)[0]
    return (at_word if len(at_word) > TITLE_MAX // 2 else cut) + "…"


def _years(meta: dict) -> str:
    """The years the headline figures pool, as far as this place's sales reach: a place whose
    sales start in 2020 does not claim figures for 2017 to 2021."""
    window = meta["window"]
    start, end = window["from"], window["to"]
    if meta["period"]:
        start = max(start, int(meta["period"]["first_sale"][:4]))
        end = min(end, int(meta["period"]["last_sale"][:4]))
    return fr.annees(start, end)


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
