"""The static site: valid pages, resolving links, SEO and the law, incremental rendering."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import html5lib
import orjson
import pytest
from conftest import RAW_2021, make_source
from jinja2 import UndefinedError

from rules import render, sitefiles
from rules.paths import ROOT, TEMPLATES, Paths


def _pages(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


def test_every_page_is_valid_html5(built: Paths) -> None:
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
    pages = _pages(built.site)
    assert len(pages) > 400
    for page in pages:
        try:
            parser.parse(page.read_bytes())
        except html5lib.html5parser.ParseError as e:
            raise AssertionError(f"{page.relative_to(built.site)}: {e}") from None


def test_every_internal_link_resolves_to_a_generated_file(built: Paths) -> None:
    missing = set()
    for page in _pages(built.site):
        for target in re.findall(r'(?:href|src|data-src)="(/[^"#?]*)"', page.read_text("utf-8")):
            path = built.site / target.lstrip("/")
            if not (path.is_file() or (path / "index.html").is_file()):
                missing.add((page.relative_to(built.site).as_posix(), target))
    assert not missing, sorted(missing)[:10]


def test_commune_pages_weigh_under_30_kb(built: Paths) -> None:
    sizes = {p.parent.name: p.stat().st_size for p in (built.site / "ville").glob("*/index.html")}
    assert len(sizes) > 400
    assert max(sizes.values()) < 30_000, max(sizes.items(), key=lambda kv: kv[1])


def test_a_commune_page_is_made_to_be_found(built: Paths) -> None:
    html = (built.site / "ville" / "01053" / "index.html").read_text("utf-8")
    assert html.count("<h1") == 1
    assert "<title>Prix de l’immobilier à Bourg-en-Bresse (01000) | ImmoStats</title>" in html
    assert '<meta name="description" content="' in html
    assert '<link rel="canonical" href="https://immostats.example/ville/01053/">' in html
    ld = orjson.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S).group(1))
    place = ld["@graph"][0]
    assert place["@type"] == "Place" and place["address"]["postalCode"] == "01000"
    assert [i["name"] for i in ld["@graph"][1]["itemListElement"]] == [
        "France",
        "Auvergne-Rhône-Alpes",
        "Ain",
        "Bourg-en-Bresse",
    ]
    assert "13\u00a0ventes retenues de 2020 à 2021" in html  # the years its sales reach, not the window's


def test_individual_sales_stay_out_of_indexable_html(built: Paths) -> None:
    html = (built.site / "ville" / "01053" / "index.html").read_text("utf-8")
    doc = orjson.loads((built.site / "data" / "villes" / "01053.json").read_bytes())
    assert doc["transactions_recent"], "the data exists..."
    for sale in doc["transactions_recent"]:
        assert f"{sale['prix']:,}".replace(",", "\u202f") + "\u202f€" not in html  # ...but not in the page
    assert 'data-src="/data/villes/01053.json"' in html
    robots = (built.site / "robots.txt").read_text()
    assert "Disallow: /data/" in robots and "Sitemap: https://immostats.example/sitemap.xml" in robots
    headers = (built.site / "_headers").read_text()
    assert re.search(r"^/data/\*\n(  .*\n)*  X-Robots-Tag: noindex$", headers, re.M)


def test_headers_carry_the_cache_rules(built: Paths) -> None:
    headers = (built.site / "_headers").read_text()
    assert re.search(r"^/assets/\*\n  Cache-Control: public, max-age=31536000, immutable$", headers, re.M)
    assert re.search(r"^/data/\*\n  Cache-Control: public, max-age=86400$", headers, re.M)
    assert re.search(r"^/ville/\*\n  Cache-Control: public, max-age=604800$", headers, re.M)


def test_assets_are_minified_and_named_by_content_hash(built: Paths) -> None:
    import hashlib

    assets = sorted((built.site / "assets").iterdir(), key=lambda a: a.suffix)  # .css, .js, .svg
    assert [re.sub(r"\.[0-9a-f]{12}\.", ".<hash>.", a.name) for a in assets] == [
        "app.<hash>.css",
        "app.<hash>.js",
        "favicon.<hash>.svg",
    ]
    for a in assets:
        assert hashlib.sha256(a.read_bytes()).hexdigest()[:12] in a.name
        source = (TEMPLATES / "assets" / re.sub(r"\.[0-9a-f]{12}", "", a.name)).read_bytes()
        data = a.read_bytes()
        assert len(data) < len(source) and b"/*" not in data
        assert data.count(b"\n") < max(1, source.count(b"\n") / 4)
    page = (built.site / "index.html").read_text("utf-8")
    assert f'href="/assets/{assets[0].name}"' in page and f'src="/assets/{assets[1].name}"' in page
    assert f'<link rel="icon" href="/assets/{assets[2].name}" type="image/svg+xml">' in page


def test_no_request_leaves_the_site(built: Paths) -> None:
    for page in _pages(built.site):
        html = page.read_text("utf-8")
        external = re.findall(
            r'<(?:script|link|img|iframe)[^>]+(?:src|href)="(https?:)?//(?!immostats\.example)', html
        )
        assert not external, page


def test_pages_state_what_they_cover(built: Paths) -> None:
    home = (built.site / "index.html").read_text("utf-8")
    assert "Source\u202f: 2\u202f793\u00a0lignes de 8\u00a0fichiers DVF." in home  # dates: on the line above
    assert "2\u202f401\u00a0ventes retenues du 3 janvier 2019 au 27 décembre 2023" in home
    method = (built.site / "methodologie" / "index.html").read_text("utf-8")
    assert "mutations du 3 janvier 2019 au 27 décembre 2023 (toutes natures confondues)" in method
    assert "Alsace" in method and "Mayotte" in method and "délai" in method
    mayotte = (built.site / "ville" / "97611" / "index.html").read_text("utf-8")
    assert "La DGFiP ne publie pas les ventes de Mayotte dans DVF\u202f:" in mayotte
    bourg = (built.site / "ville" / "01053" / "index.html").read_text("utf-8")
    assert "Pas de prix publié\u202f: trop peu de ventes" in bourg and "10\u00a0appartements et 3" in bourg
    assert "1\u202f481\u202f€/m²" in (built.site / "departement" / "01" / "index.html").read_text("utf-8")


def test_paris_page_links_its_arrondissements_and_shows_the_pooled_figure(built: Paths) -> None:
    paris = orjson.loads((built.site / "data" / "villes" / "75056.json").read_bytes())
    assert paris["current_stats"]["appartement"]["n"] == 5
    html = (built.site / "ville" / "75056" / "index.html").read_text("utf-8")
    assert (
        'href="/ville/75101/"' in html and "<title>Prix de l’immobilier à Paris | ImmoStats</title>" in html
    )


def test_sitemap_is_split_at_the_protocol_limit(tmp_path: Path) -> None:
    paths = Paths.of(tmp_path / "b", tmp_path / "s")
    paths.site.mkdir(parents=True)
    urls = [f"/ville/{i:05d}/" for i in range(5)]
    sitefiles._write_sitemaps(paths, "https://x.example", urls, parts=3)
    index = (paths.site / "sitemap.xml").read_text()
    assert index.count("<sitemap>") == 3 and "https://x.example/sitemap-3.xml" in index
    assert (paths.site / "sitemap-3.xml").read_text().count("<url>") == 1
    sitefiles._write_sitemaps(paths, "https://x.example", urls[:2], parts=1)
    assert not list(paths.site.glob("sitemap-*.xml"))
    assert (paths.site / "sitemap.xml").read_text().count("<url>") == 2


def test_full_sitemap_lists_every_page(built: Paths) -> None:
    sitemap = (built.site / "sitemap.xml").read_text()
    pages = {p.relative_to(built.site).parent.as_posix() for p in _pages(built.site)} - {"."}
    listed = set(re.findall(r"<loc>https://immostats\.example/(.*?)/?</loc>", sitemap))
    empty = {u.strip("/") for u in orjson.loads(built.unpublished.read_bytes())}
    assert empty and not empty & listed  # pages without any figure are not offered to search engines
    assert pages - {"404.html", "admin"} - empty - listed <= {""}, sorted(pages - listed)[:5]
    assert "admin" not in listed
    assert "data" not in " ".join(listed)


def test_templates_fail_loudly_and_their_dependencies_are_computed() -> None:
    with pytest.raises(UndefinedError):
        render.env().from_string("{{ doc.current_stats.missing }}").render(doc={"current_stats": {}})
    # Keys are read first on a dict, but Jinja's meaning is kept: a dict's own attributes win,
    # `is defined` sees a missing key, and other objects keep attribute-then-item lookups.
    lookups = "{{ d.n }} {{ d.items is callable }} {{ d.absent is defined }} {{ t.real }} {{ l.0 }}"
    assert render.env().from_string(lookups).render(d={"n": 3, "items": 1}, t=2, l=[7]) == "3 True False 2 7"
    names = {p.name for p in render.template_deps("commune.html")}
    assert names == {
        "commune.html",
        "_place.html",
        "base.html",
        "_search.html",
        "_macros.html",
        "_carte.html",
    }
    assert {p.name for p in render.template_deps("404.html")} == {"404.html", "base.html", "_search.html"}


def test_autoescaping_is_on_for_html_templates() -> None:
    assert render.env().autoescape("commune.html") is True
    assert render.env().from_string("{{ x }}").render(x="<b>") == "&lt;b&gt;"


# The Jinja macro explorer_rows replaced (rules/render.py), in the site's environment: the reference.
EXPLORER_MACRO = """{% macro child_cell(figure, unit="/m²") %}{% if figure.median_m2 is not none %}{{ figure.median_m2|euros(unit) }} <small>({{ figure.n|nombre }})</small>{% elif figure.n %}<small>non publié ({{ figure.n|nombre }})</small>{% else %}—{% endif %}{% endmacro %}
{% macro explorer_rows(rows) %}
{% for c in rows %}<tr data-n="{{ c.appartement.n + c.maison.n }}"{% for typ in TYPES %} data-{{ typ }}="{{ c[typ].median_m2 if c[typ].median_m2 is not none else '' }}"{% endfor %}><th scope="row"><a href="/ville/{{ c.code }}/">{{ c.nom|typo }}</a></th>{% for typ in TYPES %}<td>{{ child_cell(c[typ], "") }}</td>{% endfor %}<td>{{ (c.appartement.n + c.maison.n)|nombre }}</td></tr>
{% endfor %}
{% endmacro %}
{{ explorer_rows(rows) }}"""  # noqa: E501


def test_the_communes_table_writes_what_its_jinja_macro_wrote(built: Paths) -> None:
    """Every department's rows, and names a template must escape: the same bytes."""
    docs = [orjson.loads(p.read_bytes()) for p in (built.site / "data" / "departements").glob("*.json")]
    rows = [c for doc in docs for c in doc["children"]]
    assert len(rows) > 300 and any(c[t]["median_m2"] is None for c in rows for t in ("appartement", "maison"))
    figure = {"n": 1234, "median_m2": 2500}
    rows += [
        {"code": "01<9", "nom": 'L\'Abergement <b>&amp;</b> "x"', "appartement": figure, "maison": figure},
        {"code": "01001", "nom": "Zéro", "appartement": {"n": 0, "median_m2": None}, "maison": figure},
        {"code": "01002", "nom": "Huit", "appartement": {"n": 8, "median_m2": None}, "maison": figure},
    ]
    macro = render.env().from_string(EXPLORER_MACRO).render(rows=rows)
    assert str(render.explorer_rows(rows)) == macro.removesuffix("\n") + "\n"
    assert "&lt;b&gt;&amp;amp;" in macro and "non publié (8)" in macro


# The template loops series_rows and season_rows replaced (rules/render.py), as the templates wrote them.
SERIES_LOOP = """  <tbody>
  {% for period, n_flats, flats, n_houses, houses in rows %}
    <tr><th scope="row">{{ period|period(true) }}</th><td>{{ n_flats|nombre }}</td><td>{{ flats|euros("/m²") }}</td><td>{{ n_houses|nombre }}</td><td>{{ houses|euros("/m²") }}</td></tr>
  {% endfor %}
  </tbody>"""  # noqa: E501
SEASON_LOOP = """<tbody>
  {% for month in ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"] %}
  <tr><th scope="row">{{ month }}</th><td>{{ season.appartement[loop.index0]|nombre }}</td><td>{{ season.maison[loop.index0]|nombre }}</td></tr>
  {% endfor %}</tbody>"""  # noqa: E501


def test_the_series_and_season_tables_write_what_their_jinja_loops_wrote(built: Paths) -> None:
    """Every commune's tables by year, by quarter and by month of the year, and periods a
    template must escape: the same bytes."""
    docs = [orjson.loads(p.read_bytes()) for p in (built.site / "data" / "villes").glob("*.json")]
    tables = [render._table_rows(d["series"], grain) for d in docs for grain in ("annee", "trimestre")]
    assert sum(len(t) for t in tables) > 50 and any(None in row for t in tables for row in t)
    odd = [("2021-T1", 0, None, 1234567, 2500), ("<b>&amp;", 3, 1500, 0, None), ("2022", 15, 71.5, 2, None)]
    tables.append(odd)
    series_loop, season_loop = render.env().from_string(SERIES_LOOP), render.env().from_string(SEASON_LOOP)
    for rows in tables:
        loop = series_loop.render(rows=rows)
        assert f"  <tbody>\n{render.series_rows(rows)}  </tbody>" == loop
    assert "&lt;b&gt;&amp;amp;" in loop and "1er trim. 2021" in loop
    seasons = [d["seasonality"] for d in docs if "seasonality" in d]
    seasons.append({"appartement": [0, 1, 12345, *range(9)], "maison": list(range(1000, 13000, 1000))})
    assert len(seasons) > 20
    for season in seasons:
        loop = season_loop.render(season=season)
        assert f"<tbody>\n{render.season_rows(season)}</tbody>" == loop


# Incremental rendering, counted from the tasks doit executed, on a copy of the project so that
# templates can be edited without touching the repository.


def _copy_project(dest: Path) -> Path:
    shutil.copytree(
        ROOT,
        dest,
        ignore=shutil.ignore_patterns(
            ".venv",
            ".git",
            "build",
            "site",
            "__pycache__",
            "*.egg-info",
            ".pytest_cache",
            ".ruff_cache",
            "artifacts",
        ),
    )
    return dest


def _doit(project: Path, paths: Paths, *args: str) -> set[str]:
    env = {**os.environ, "PYTHONPATH": str(project)}  # the copy's `rules`, not the installed one
    cmd = [
        sys.executable,
        "-m",
        "doit",
        "-f",
        str(project / "dodo.py"),
        "-v",
        "2",  # one line per task that runs
        *args,
        f"build_dir={paths.build}",
        f"site_dir={paths.site}",
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=project, env=env, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return {ln[3:] for ln in proc.stdout.splitlines() if ln.startswith(".  ")}


def test_incremental_rendering(tmp_path: Path) -> None:
    project = _copy_project(tmp_path / "project")
    paths = Paths.of(tmp_path / "build", tmp_path / "site")
    source = make_source(tmp_path / "source")
    args = ("departements=01", f"source={source}")
    first = _doit(project, paths, *args)
    assert "render:01053" in first and "render:departement-01" in first
    assert _doit(project, paths, *args) == set(), "a second doit runs nothing"

    # One commune's data changes: that commune, its department, region and the home page re-render.
    raw = source / RAW_2021.name
    raw.write_text(raw.read_text("utf-8").replace("204332,00", "214332,00"), encoding="utf-8")
    ran = _doit(project, paths, *args)
    assert {t for t in ran if t.startswith("render:")} == {
        "render:01065",
        "render:departement-01",
        "render:region-84",
        "render:france-fr",
    }

    # A template edit re-renders the pages that use it, and only those.
    with open(project / "templates" / "departement.html", "a") as f:
        f.write("{# edited #}\n")
    ran = _doit(project, paths, *args)
    assert ran == {"fingerprint:departement.html", "render:departement-01"}

    with open(project / "templates" / "_search.html", "a") as f:
        f.write("\n")
    ran = {t for t in _doit(project, paths, *args) if not t.startswith("fingerprint:") and t != "health"}
    pages = len([p for p in paths.site.rglob("*.html") if p.parent.name != "admin"])  # admin: the health task
    assert len(ran) == pages and all(t.startswith("render:") for t in ran)
    assert _doit(project, paths, *args) == set()


def test_code_is_an_input_like_data(tmp_path: Path) -> None:
    """Each task's Python inputs are computed (the rules modules its action can reach): an edit
    reruns exactly the tasks that can change, and an edit elsewhere reruns nothing."""
    project = _copy_project(tmp_path / "project")
    paths = Paths.of(tmp_path / "build", tmp_path / "site")
    args = ("departements=01", f"source={make_source(tmp_path / 'source')}")
    _doit(project, paths, *args)
    pages = {p for p in paths.site.rglob("*.html") if p.parent.name != "admin"}
    ain = paths.site / "departement" / "01" / "index.html"
    assert "EUR" not in ain.read_text("utf-8")

    fr = project / "rules" / "fr.py"  # a formatting function every page uses
    fr.write_text(fr.read_text("utf-8").replace("{NNBSP}€{unit}", "{NNBSP}EUR{unit}"), encoding="utf-8")
    ran = _doit(project, paths, *args)
    assert len({t for t in ran if t.startswith("render:")}) == len(pages)
    assert "load" not in ran and "EUR" in ain.read_text("utf-8")
    assert _doit(project, paths, *args) == set()

    with open(project / "rules" / "purge.py", "a") as f:  # nothing the build runs imports it
        f.write("# edited\n")
    assert _doit(project, paths, *args) == set()

    # How doit is driven (its reporter, the pages it is given), not what the tasks make: no task's
    # input. It was every page's, through the records' codec the prerender worker imported from it.
    for module in ("doitedge.py", "settled.py"):
        with open(project / "rules" / module, "a") as f:
            f.write("# edited\n")
        assert _doit(project, paths, *args) == set(), module

    with open(project / "rules" / "sql" / "place_recent.sql", "a") as f:  # read by stats only
        f.write("-- edited\n")
    ran = _doit(project, paths, *args)
    assert "stats" in ran and "load" not in ran and not any(t.startswith("render:") for t in ran)

    with open(project / "rules" / "sources.py", "a") as f:  # the importer: reimports, same data
        f.write("# edited\n")
    ran = _doit(project, paths, *args)
    assert "load" in ran and not any(t.startswith("render:") for t in ran)


@pytest.mark.parametrize(
    ("top", "expected"), [(12, (15, 3)), (39, (40, 4)), (1817.5, (2000, 4)), (99999, (100000, 4))]
)
def test_chart_axes_use_round_steps(top: float, expected: tuple[float, int]) -> None:
    from rules.charts import _scale

    assert _scale(top) == expected


def test_chart_axis_labels_are_french_numbers() -> None:
    from rules.charts import _y_labels

    assert "<span>7,5</span><span>5</span><span>2,5</span>" in _y_labels(10, 4)  # not 7 and 2
    assert "<span>6\u202f000</span>" in _y_labels(6000, 3)


def test_health_json_and_the_admin_dashboard(built: Paths) -> None:
    doc = orjson.loads((built.site / "api" / "health.json").read_bytes())
    for key in (
        "last_update",
        "data_version",
        "cities_count",
        "total_transactions",
        "update_frequency",
        "next_update",
        "status",
    ):
        assert key in doc
    assert doc["status"] == "pass" and doc["total_transactions"] == 2793 and doc["cities_known"] > 400
    assert doc["next_update"].endswith("T03:00:00+00:00") and doc["last_run"]["status"] == "success"
    assert doc["last_run"]["import_seconds"] >= 0
    stages = doc["last_run"]["stages"]
    assert (
        stages["rows"] == 2793
        and stages["rows"] >= stages["deduped"] >= stages["single_good"] >= stages["priced"]
    )
    assert (
        stages["priced"] >= stages["plausible"] == doc["sales_published"]
    )  # the last step: what pages count
    admin = (built.site / "admin" / "index.html").read_text("utf-8")
    assert '<meta name="robots" content="noindex, nofollow">' in admin and "Tableau de bord" in admin
    assert "Disallow: /admin/" in (built.site / "robots.txt").read_text()


def test_next_run_follows_the_cron() -> None:
    from datetime import UTC, datetime

    from rules.health import next_run

    assert next_run(datetime(2026, 11, 24, 10, 0, tzinfo=UTC)) == datetime(2026, 11, 30, 3, 0, tzinfo=UTC)
    assert next_run(datetime(2026, 11, 30, 2, 59, tzinfo=UTC)) == datetime(2026, 11, 30, 3, 0, tzinfo=UTC)
    assert next_run(datetime(2026, 11, 30, 3, 0, tzinfo=UTC)) == datetime(2026, 12, 7, 3, 0, tzinfo=UTC)
