"""Maps, the department explorer, the rooms breakdown and what a one-commune change re-renders."""

from __future__ import annotations

import csv
import re
import shutil
import statistics
from collections import Counter, defaultdict
from html.parser import HTMLParser
from pathlib import Path

import orjson
import pytest
from conftest import HENDAYE, SCOPE, make_source, run_doit
from test_stats import ADJACENT

from rules import contours, maps, places, render
from rules.paths import Paths


class _Map(HTMLParser):
    """The shapes of a page's map (link, title, classes), its legends and its unlinked shapes."""

    def __init__(self) -> None:
        super().__init__()
        self.shapes: list[dict] = []
        self.legend: dict[str, list[dict]] = defaultdict(list)
        self.off = 0
        self.in_svg = False
        self._href: str | None = None
        self._title = False
        self._legend: str | None = None
        self._text = ""

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = dict(attrs)
        if tag == "a" and self._href is None and a.get("href", "").startswith("/") and self.in_svg:
            self._href = a["href"]
            self.shapes.append({"href": a["href"], "title": ""})
        elif tag == "svg" and "aria-labelledby" in a and a["aria-labelledby"] == "carte-titre":
            self.in_svg = True
        elif tag == "title" and self._href:
            self._title = True
        elif tag == "path" and self._href:
            self.shapes[-1]["classes"] = a["class"].split()
        elif tag == "path" and a.get("class") == "off":
            self.off += 1
        elif tag == "ul" and "legende" in a.get("class", ""):
            self._legend = a["class"].split()[1].removeprefix("l-")
        elif tag == "li" and self._legend and "data-min" in a:
            low, high = a["data-min"], a["data-max"]
            self.legend[self._legend].append(
                {
                    "colour": int(a["data-colour"]),
                    "min": int(low) if low else None,
                    "max": int(high) if high else None,
                }
            )

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._href:
            self._href = None
        elif tag == "title":
            self._title = False
        elif tag == "svg":
            self.in_svg = False
        elif tag == "ul":
            self._legend = None

    def handle_data(self, data: str) -> None:
        if self._title:
            self.shapes[-1]["title"] += data


def _map(html: str) -> _Map:
    parsed = _Map()
    parsed.feed(html)
    return parsed


def _page(paths: Paths, level: str, code: str) -> str:
    return Path(render.page_file(paths, level, code)).read_text("utf-8")


def _doc(paths: Paths, level: str, code: str) -> dict:
    return orjson.loads(places.json_path(paths, level, code).read_bytes())


def _number(text: str) -> int:
    return int(re.sub(r"\D", "", text))


def test_the_neighbour_lists_agree_with_the_ign_contours() -> None:
    """The hand-made lists the neighbours test checks against are the communes whose IGN
    polygons touch each commune's, in the vendored contours (a shared vertex: simplified, the
    short border of Oyonnax and Charix is one point)."""
    names = {code: p.nom for (level, code), p in places.all_places().items() if level == "commune"}
    for code, adjacent in ADJACENT.items():
        if not code[:2].isdigit() or code.startswith("75"):
            continue
        shapes = contours.load(contours.path(code[:2]))
        mine = {pt for ring in shapes[code] for pt in contours.points(ring)}
        touching = {
            names[other]
            for other, rings in shapes.items()
            if other != code and mine & {pt for ring in rings for pt in contours.points(ring)}
        }
        assert touching == adjacent, (code, touching ^ adjacent)


def test_every_commune_is_a_linked_shape_on_its_department_map(built: Paths) -> None:
    """Pyrénées-Atlantiques: each of its communes once, linked to its page, titled with its name
    and figures; the region's map links its covered departments and draws the others plain; the
    home page's map has the overseas departments as insets."""
    dep = _doc(built, "departement", "64")
    drawn = _map(_page(built, "departement", "64"))
    assert sorted(s["href"] for s in drawn.shapes) == sorted(f"/ville/{c['code']}/" for c in dep["children"])
    assert len(drawn.shapes) == len(dep["children"]) == 545
    hendaye = next(s for s in drawn.shapes if s["href"] == "/ville/64260/")
    flats, houses = next((c["appartement"], c["maison"]) for c in dep["children"] if c["code"] == "64260")
    assert hendaye["title"] == (  # each median with the sales it rests on
        f"Hendaye — appartements\u202f: {flats['median_m2']:,}\u202f€/m² ({flats['n']:,}\u00a0ventes)\u202f; "
        f"maisons\u202f: {houses['median_m2']:,}\u202f€/m² ({houses['n']:,}\u00a0ventes)".replace(
            ",", "\u202f"
        )
    )
    assert next(s["title"] for s in drawn.shapes if s["href"] == "/ville/64445/").endswith(
        "appartements\u202f: aucune vente\u202f; maisons\u202f: aucune vente"  # not a price withheld
    )
    region = _map(_page(built, "region", "75"))
    assert [s["href"] for s in region.shapes] == ["/departement/64/"] and region.off == 11  # 12 departments
    france = _map(_page(built, "france", "FR"))
    assert sorted(s["href"] for s in france.shapes) == [
        f"/departement/{c}/" for c in ("01", "64", "75", "976")
    ]
    assert france.off == 101 - 4
    mayotte = next(s for s in france.shapes if s["href"] == "/departement/976/")
    assert mayotte["classes"] == ["x"]  # not in DVF: neither hatched nor coloured
    assert mayotte["title"] == "Mayotte — hors DVF\u202f: aucune vente publiée"
    assert _page(built, "france", "FR").count('class="inset"') == 5  # the five overseas departments


def test_lyon_and_marseille_are_drawn_by_arrondissement_on_their_department_map() -> None:
    """The Rhône's map links each commune and Lyon's nine arrondissements (from the figures the
    department's file carries for them), not Lyon whole; the Bouches-du-Rhône's, Marseille's 16."""
    everything = places.all_places()
    for dep, city in (("69", "69123"), ("13", "13055")):
        children = []
        for code in everything["departement", dep].children:
            place = everything["commune", code]
            child = {
                "code": code,
                "nom": place.nom,
                "appartement": {"n": 40, "median_m2": 2500},
                "maison": {"n": 0},
            }
            if place.children:
                child["arrondissements"] = [
                    {
                        "code": a,
                        "nom": everything["commune", a].nom,
                        "appartement": {"n": 50, "median_m2": 4000 + i},
                        "maison": {"n": 0},
                    }
                    for i, a in enumerate(place.children)
                ]
            children.append(child)
        meta = {"level": "departement", "code": dep, "nom": "x", "liaison": 0}
        carte = render.carte({"metadata": meta, "children": children})
        assert carte is not None and carte["missing"] == []
        links = {href for href, *_ in carte["shapes"]}
        arrondissements = {f"/ville/{a}/" for a in everything["commune", city].children}
        assert arrondissements <= links and f"/ville/{city}/" not in links
        assert len(links) == len(children) - 1 + len(arrondissements)


def test_map_shapes_are_fitted_once_and_read_back(tmp_path: Path) -> None:
    """A map drawn through the geometry cache is the map drawn without it, cold and warm; what the
    cache holds is what is drawn (so it is read), a damaged entry is computed again, and a folder
    left by other code is removed when this code writes its first shapes."""
    shapes = contours.load(contours.path("05"))
    items = [
        maps.Item(c, c, f"/ville/{c}/", {"appartement": None, "maison": 2000}, {"maison": 9}) for c in shapes
    ]
    stale = tmp_path / "geo" / "0123456789abcdef"
    stale.mkdir(parents=True)
    plain = maps.draw(items, shapes, "T", "commune")
    cache = maps.GeometryCache(tmp_path / "geo", contours.path("05"))
    assert maps.draw(items, shapes, "T", "commune", geometries=cache) == plain  # cold: computed, written
    assert not stale.exists()
    (entry,) = (tmp_path / "geo").glob("*/*.json")
    assert maps.draw(items, shapes, "T", "commune", geometries=cache) == plain  # warm: read back
    kept = orjson.loads(entry.read_bytes())
    first = items[0].code
    kept["paths"][first] = "M1 1l1 0 0 1z"
    entry.write_bytes(orjson.dumps(kept))
    warm = maps.draw(items, shapes, "T", "commune", geometries=cache)
    assert warm is not None and plain is not None
    assert warm["shapes"][0][3] == "M1 1l1 0 0 1z" and warm["shapes"][1:] == plain["shapes"][1:]
    for damaged in (b"{", orjson.dumps({**kept, "paths": {first: 3}}), orjson.dumps({**kept, "height": "x"})):
        entry.write_bytes(damaged)
        assert maps.draw(items, shapes, "T", "commune", geometries=cache) == plain
    assert orjson.loads(entry.read_bytes())["paths"] == dict(maps.geometry(shapes, list(shapes), False).paths)


def test_colours_follow_the_legend_classes() -> None:
    """A map of Ain's communes with medians spread over a range: every shape's colour is the one of
    the legend class its median falls in (low <= median < high), at most five classes, limits
    rounded to 100 €, and a commune without a median is hatched (colour 0)."""
    shapes = contours.load(contours.path("01"))
    codes = sorted(shapes)
    medians = {c: (None if i % 7 == 0 else 900 + (i * 37) % 3100) for i, c in enumerate(codes)}
    items = [
        maps.Item(c, c, f"/ville/{c}/", {"appartement": None, "maison": medians[c]}, {"maison": 20})
        for c in codes
    ]
    carte = maps.draw(items, shapes, "Test", "commune")
    assert carte is not None and carte["types"] == ["maison"]
    html = render.env().get_template("_carte.html").render(carte=carte)
    drawn = _map(html)
    classes = drawn.legend["maison"]
    assert 2 <= len(classes) <= 5 and all(c["max"] is None or c["max"] % 100 == 0 for c in classes)
    assert classes[0]["min"] is None and classes[-1]["max"] is None
    assert [c["colour"] for c in classes] == sorted({c["colour"] for c in classes})
    seen = Counter()
    for shape in drawn.shapes:
        code = shape["href"].split("/")[2]
        colour = int(shape["classes"][0].removeprefix("m"))
        value = medians[code]
        if value is None:
            assert colour == 0
            continue
        (klass,) = [c for c in classes if (c["min"] or 0) <= value < (c["max"] or 10**9)]
        assert colour == klass["colour"], (code, value, classes)
        seen[colour] += 1
    assert len(seen) == len(classes)  # every class is used
    assert len(drawn.shapes) == len(codes)


# The columns whose equality makes two rows one (step 1 of the method).
DEDUPED = (
    "id_mutation date_mutation code_commune id_parcelle nature_mutation code_type_local valeur_fonciere "
    "surface_reelle_bati nombre_pieces_principales"
).split()


def _hendaye_sales() -> list[tuple[str, int, float]]:
    """Hendaye's single-good sales of a flat, 2019-2023, computed from the CSV rows alone: (type,
    rooms, price per m2), with the method's filters (natures, one flat or house per mutation,
    exact duplicates once, plausible surface and price)."""
    rows: dict[str, list[dict]] = defaultdict(list)
    for file in HENDAYE:
        with open(file, encoding="utf-8", newline="") as f:
            seen = set()
            for row in csv.DictReader(f):
                key = tuple(row[k] for k in DEDUPED)
                if key not in seen:
                    seen.add(key)
                    rows[row["id_mutation"]].append(row)
    out = []
    for mutation in rows.values():
        goods = [r for r in mutation if r["type_local"] in ("Appartement", "Maison")]
        first = mutation[0]
        if len(goods) != 1 or first["nature_mutation"] not in (
            "Vente",
            "Vente en l'état futur d'achèvement",
            "Adjudication",
        ):
            continue
        good = goods[0]
        value, surface = float(first["valeur_fonciere"] or 0), float(good["surface_reelle_bati"] or 0)
        if not value or not surface:
            continue
        price = value / surface
        if 9 <= surface <= 1000 and 100 <= price < 100_000:
            out.append((good["type_local"].lower(), int(good["nombre_pieces_principales"] or 0), price))
    return out


# Hendaye, and its department and region, whose sales in the sample are Hendaye's: a commune's
# figures and those of the large groups (departments, regions, France) are computed apart.
@pytest.mark.parametrize(("level", "code"), [("commune", "64260"), ("departement", "64"), ("region", "75")])
def test_the_rooms_breakdown_matches_a_hand_computation(built: Paths, level: str, code: str) -> None:
    """Hendaye's median price per m2 by number of rooms, recomputed from the CSV rows by hand; none
    below grade_min sales."""
    by_rooms: dict[tuple[str, int], list[float]] = defaultdict(list)
    for typ, rooms, price in _hendaye_sales():
        if rooms >= 1:
            by_rooms[typ, min(rooms, 5)].append(price)
    doc = _doc(built, level, code)
    current, grade_min = doc["current_stats"], doc["metadata"]["method"]["grade_min"]
    published = 0
    for typ in ("appartement", "maison"):
        for group in current[typ]["pieces"]:
            prices = by_rooms[typ, group["pieces"]]
            assert group["n"] == len(prices), (typ, group)
            expected = round(statistics.median(prices)) if len(prices) >= grade_min else None
            assert group["median_m2"] == expected, (typ, group, expected)
            published += expected is not None
    assert 7 <= published < 10  # flats of 1 to 5+ rooms and most house sizes, not all
    if level == "commune":
        page = _page(built, "commune", "64260")
        assert "Selon le nombre de pièces" in page and "5 et plus" in page


def test_the_explorer_lists_every_commune_most_sales_first_without_javascript(built: Paths) -> None:
    """The department's table holds every commune once, the first 30 by sales in view, the
    others in a <details>, each row with the figures the JSON gives."""
    html = _page(built, "departement", "64")
    rows = re.findall(r'<tr data-n="(\d+)"[^>]*><th scope="row"><a href="/ville/(\d+)/">', html)
    children = {c["code"]: c for c in _doc(built, "departement", "64")["children"]}
    assert sorted(code for _, code in rows) == sorted(children)
    counts = [int(n) for n, _ in rows]
    assert counts == sorted(counts, reverse=True) and rows[0][1] == "64260"
    assert all(int(n) == children[c]["appartement"]["n"] + children[c]["maison"]["n"] for n, c in rows)
    head, rest = html.split('<details class="more">', 1)
    assert head.count('<tr data-n="') == 30 and "Les 515 autres communes" in rest


def test_a_one_commune_change_rerenders_its_page_and_the_pages_that_show_it(
    built: Paths, tmp_path: Path
) -> None:
    """One Hendaye sale's price changes: the pages rendered again are exactly those of the places
    whose JSON changed (Hendaye, its department, whose table and map show it, and its region,
    whose pooled mean moved), plus the admin page; France's figures and the departments' summary
    did not move, so the home page and its map are not rendered, nor any other commune."""
    build, site = tmp_path / "build", tmp_path / "site"
    shutil.copytree(built.build, build, symlinks=True)
    shutil.copytree(built.site, site, symlinks=True)
    paths = Paths.of(build, site)
    source = make_source(tmp_path / "source", hendaye=True)
    run_doit(paths, SCOPE, f"source={source}")  # the same data from another folder: nothing to do
    before = {p: p.stat().st_mtime_ns for p in site.rglob("*.html")}
    changed = source / HENDAYE[-1].name
    lines = changed.read_text("utf-8").splitlines()
    fields = lines[1].split(",")
    fields[4] = str(int(float(fields[4])) + 25_000)  # valeur_fonciere of the last year's first sale
    changed.write_text("\n".join([lines[0], ",".join(fields), *lines[2:]]) + "\n", encoding="utf-8")
    out = run_doit(paths, SCOPE, f"source={source}").stdout
    after = {p: p.stat().st_mtime_ns for p in site.rglob("*.html")}
    rewritten = sorted(str(p.relative_to(site)) for p in after if after[p] != before.get(p))
    json_changed = orjson.loads(paths.changes.read_bytes())["changed"]
    assert json_changed == {"commune": ["64260"], "departement": ["64"], "region": ["75"], "france": []}
    assert rewritten == [
        "admin/index.html",
        "departement/64/index.html",
        "region/75/index.html",
        "ville/64260/index.html",
    ], rewritten
    assert "render: 3 pages" in out, out
