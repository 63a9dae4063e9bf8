"""The site read as a French reader reads it: names with their article, agreement, typography.

The rules come from INSEE's `typeLiaison` (the article a name takes), checked on real names of
every kind, then on every page of a built site, where any fault on any page fails.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import orjson
import pytest
from frenchcheck import check

from rules import fr, render
from rules import places as pl
from rules.paths import ROOT, Paths

# (level, code, name as the referential spells it, typeLiaison, "in", "of")
NAMES = [
    ("commune", "01053", "Bourg-en-Bresse", 0, "à Bourg-en-Bresse", "de Bourg-en-Bresse"),
    ("commune", "01283", "Oyonnax", 1, "à Oyonnax", "d’Oyonnax"),
    ("commune", "76351", "Le Havre", 2, "au Havre", "du Havre"),
    ("commune", "17300", "La Rochelle", 3, "à La Rochelle", "de La Rochelle"),
    ("commune", "97101", "Les Abymes", 4, "aux Abymes", "des Abymes"),
    ("commune", "94038", "L'Haÿ-les-Roses", 5, "à L’Haÿ-les-Roses", "de L’Haÿ-les-Roses"),
    ("commune", "64257", "Haut-de-Bosdarros", 1, "à Haut-de-Bosdarros", "de Haut-de-Bosdarros"),  # h aspiré
    ("commune", "24210", "Hautefort", 1, "à Hautefort", "d’Hautefort"),  # INSEE's elision, kept
    (
        "commune",
        "75115",
        "Paris 15e arrondissement",
        0,
        "à Paris 15e arrondissement",
        "de Paris 15e arrondissement",
    ),
    ("departement", "01", "Ain", 5, "dans l’Ain", "de l’Ain"),
    ("departement", "59", "Nord", 2, "dans le Nord", "du Nord"),
    ("departement", "13", "Bouches-du-Rhône", 4, "dans les Bouches-du-Rhône", "des Bouches-du-Rhône"),
    ("departement", "33", "Gironde", 3, "dans la Gironde", "de la Gironde"),
    ("departement", "75", "Paris", 0, "à Paris", "de Paris"),
    ("departement", "77", "Seine-et-Marne", 0, "en Seine-et-Marne", "de Seine-et-Marne"),
    ("departement", "35", "Ille-et-Vilaine", 1, "en Ille-et-Vilaine", "d’Ille-et-Vilaine"),
    ("departement", "971", "Guadeloupe", 3, "en Guadeloupe", "de la Guadeloupe"),
    ("departement", "974", "La Réunion", 0, "à La Réunion", "de La Réunion"),
    ("departement", "976", "Mayotte", 0, "à Mayotte", "de Mayotte"),
    ("region", "11", "Île-de-France", 1, "en Île-de-France", "d’Île-de-France"),
    ("region", "24", "Centre-Val de Loire", 2, "en Centre-Val de Loire", "du Centre-Val de Loire"),
    ("region", "32", "Hauts-de-France", 4, "dans les Hauts-de-France", "des Hauts-de-France"),
    ("region", "44", "Grand Est", 2, "dans le Grand Est", "du Grand Est"),
    ("region", "75", "Nouvelle-Aquitaine", 3, "en Nouvelle-Aquitaine", "de la Nouvelle-Aquitaine"),
    ("region", "04", "La Réunion", 0, "à La Réunion", "de La Réunion"),
    ("france", "FR", "France", 3, "en France", "de la France"),
]


@pytest.mark.parametrize(("level", "code", "nom", "liaison", "in_", "of"), NAMES)
def test_a_place_takes_its_article_and_preposition(
    level: str, code: str, nom: str, liaison: int, in_: str, of: str
) -> None:
    place = pl.all_places()[level, code]
    assert (place.nom, place.liaison) == (nom, liaison)  # the referential says so, not the test
    assert fr.a(nom, liaison, level, code) == in_
    assert fr.de(nom, liaison, level, code) == of


def test_an_arrondissement_is_in_its_city() -> None:
    assert pl.all_places()["commune", "75115"].nom == "Paris 15e arrondissement"  # lower case a
    assert fr.a("Paris 15e arrondissement", 0, "arrondissement") == "dans le 15e arrondissement de Paris"
    assert fr.de("Marseille 1er arrondissement", 0, "arrondissement") == "du 1er arrondissement de Marseille"
    assert fr.court("Lyon 3e arrondissement") == "Lyon 3e"


def test_the_rare_articles_aux_and_los() -> None:
    communes = {p.nom: p for (lv, _), p in pl.all_places().items() if lv == "commune"}
    assert communes["Aux Marais"].liaison == 6 and fr.a("Aux Marais", 6) == "aux Marais"
    assert fr.de("Aux Marais", 6) == "des Marais"
    assert communes["Los Masos"].liaison == 8 and fr.a("Los Masos", 8) == "à Los Masos"


def test_counts_agree_and_numbers_group_by_thousands() -> None:
    nb, nnb = "\u00a0", "\u202f"
    assert fr.compte(0, "vente") == f"0{nb}vente"
    assert fr.compte(1, "maison") == f"1{nb}maison"
    assert fr.compte(2, "vente") == f"2{nb}ventes"
    assert fr.compte(2095, "vente") == f"2{nnb}095{nb}ventes"
    assert fr.euros(100000) == f"100{nnb}000{nnb}€"
    assert fr.periode("2021-T1") == "1er trimestre 2021" and fr.periode("2021-03") == "mars 2021"


def _pages(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


def test_the_checker_sees_each_fault() -> None:
    """The page test below can fail: each fault of the issue, on a page made to show them all."""
    bad = (
        "<html><head><title>Prix de l'immobilier à Le Havre, une page dont le titre est trop long"
        "</title>"
        '<meta name="description" content="Prix en Ain"></head><body>'
        '<nav class="crumbs"><ol><li>Paris</li><li>Paris</li></ol></nav>'
        "<p>Les 1 ventes : 1 appartements ; « DVF » Paris 15e Arrondissement, à Paris 2e arrondissement,"
        " 2021-T1, 2095 ventes,"
        " R112 A-3</p><p>Comparer avec Mayotte, Mayotte et la France.</p>"
        "<table><tr><td>33398</td></tr></table></body></html>"
    )
    _, faults = check("x.html", bad)
    said = " ".join(faults)
    for what in [
        "a preposition before Le/Les",
        "en before a name with an article",
        "a plural after 0 or 1",
        "Les 1",
        "Arrondissement with a capital",
        "à Paris 15e arrondissement",
        "a straight apostrophe",
        "an ordinary space before",
        "« » without narrow no-break spaces",
        "a quarter written 2021-T1",
        "a number without thousands separator",
        "R112 for R. 112",
        "title of",
        "twice in the breadcrumbs",
        "twice in the comparison",
        "a count without separator: 33398",
    ]:
        assert what in said, what


def test_every_page_reads_as_a_french_editor_would_write_it(built: Paths) -> None:
    """Every HTML page of the build: no grammar or typography fault from the issue's list, titles
    under 65 characters, no place named twice in a row, and honest pages kept out of the index."""
    faults: list[str] = []
    empty = set(orjson.loads(built.unpublished.read_bytes()))
    sitemap = (built.site / "sitemap.xml").read_text("utf-8")
    pages = _pages(built.site)
    assert len(pages) > 400
    for page in pages:
        rel = page.relative_to(built.site).as_posix()
        parser, found = check(rel, page.read_text("utf-8"))
        faults += found
        text = parser.text
        url = "/" + rel.removesuffix("index.html")
        if url in empty:
            assert parser.noindex and f"{url}</loc>" not in sitemap, url
            assert "Pas de prix" in text and "Répartition des prix" not in text, url
    assert not faults, "\n".join(faults[:20]) + f"\n({len(faults)} faults)"


def test_sentences_a_french_editor_corrected(built: Paths) -> None:
    """What a copy editor's readings of the pages changed (2026-12-06, 2026-12-07): the estimate's
    sentence without JavaScript, one per type, each multiplication said apart and with its median;
    chart descriptions that separate a type from its periods and a period from its price; a time
    that does not break; tables that say what their rows are, and what their dashes mean; a change
    over a year said in words, not with an arrow a screen reader spells out; a map that does not
    call "price withheld" a commune without sales."""
    hendaye = (built.site / "ville" / "64260" / "index.html").read_text("utf-8")
    noscript = hendaye.split("<noscript>")[1].split("</noscript>")[0]
    assert noscript.count(", multipliez votre surface par ") == 2 and "puis, séparément, par " in noscript
    assert "&#8239;; pour une maison, " in noscript and noscript.count("(prix médian&#8239;: ") == 2, noscript
    assert "Appartements — 2019\u202f: " in hendaye and "€/m²\u202f; 2020\u202f: " in hendaye  # a chart's
    assert "→" not in hendaye and "Maisons, de 2022 à 2023&#8239;:" in hendaye
    pieces = hendaye.split("Selon le nombre de pièces")[1]
    assert "—&#8239;: aucune vente." in pieces.split("</section>")[0]
    dep = (built.site / "departement" / "64" / "index.html").read_text("utf-8")
    assert "prix non publié&#8239;: trop peu de ventes, ou aucune" in dep and "une seule classe" not in dep
    ain = (built.site / "departement" / "01" / "index.html").read_text("utf-8")  # its rows stop in 2021
    assert (
        "Évolution de 2022 à 2023 non calculée\u202f: aucune vente d’appartement ou de maison n’est "
        "recensée ici en 2022 ni en 2023." in ain
    )

    assert fr.date_heure("2026-12-02T14:01:00+00:00") == "2 décembre 2026 à 14\u00a0h\u00a001 (UTC)"
    castillon = (built.site / "ville" / "64181" / "index.html").read_text("utf-8")  # one pair of brackets
    assert "<title>Prix au m² à Castillon (canton d’Arthez-de-Béarn, 64370)</title>" in castillon
    assert "<h1>Prix de l’immobilier à Castillon (canton d’Arthez-de-Béarn, 64370)</h1>" in castillon
    home = (built.site / "index.html").read_text("utf-8")
    assert '<th scope="col">Région</th>' in home and '<th scope="col">Nom</th>' not in home


def test_a_change_not_computed_says_the_sales_each_year_had() -> None:
    """Too few sales for a change over a year: the sentence gives each type's sales at both ends."""
    series = {
        "appartement": {"annee": {"period": ["2022", "2023"], "n": [16, 3], "median_m2": [3000, None]}},
        "maison": {"annee": {"period": ["2023"], "n": [1], "median_m2": [None]}},
    }
    span = {"1y": {"from": "2022", "to": "2023", "pct": None}}
    doc = {
        "series": series,
        "evolution": {"appartement": span, "maison": span},
        "metadata": {"method": {"grade_min": 15}},
    }
    assert render.no_evolution(doc) == (
        "Évolution de 2022 à 2023 non calculée\u202f: il faut au moins 15\u00a0ventes d’un même type "
        "chaque année (ici, appartements\u202f: 16 puis 3\u202f; maisons\u202f: 0 puis 1)."
    )


def test_a_place_without_figures_gets_a_short_honest_page(built: Paths) -> None:
    empty = set(orjson.loads(built.unpublished.read_bytes()))
    assert {"/ville/97611/", "/ville/01053/"} <= empty and "/ville/64260/" not in empty
    mayotte = (built.site / "ville" / "97611" / "index.html").read_text("utf-8")
    assert "La DGFiP ne publie pas les ventes de Mayotte dans DVF\u202f: aucun prix ne peut donc" in mayotte
    assert "Pas assez de ventes" not in mayotte and "<svg" not in mayotte  # no empty chart sections
    assert mayotte.count("<section") <= 2 and "Dernières ventes" not in mayotte
    bourg = (built.site / "ville" / "01053" / "index.html").read_text("utf-8")  # 13 sales, too few
    said = (
        "Les données DVF ne recensent à Bourg-en-Bresse que 13\u00a0ventes retenues de 2020 à 2021\u202f: "
        "10\u00a0appartements et 3\u00a0maisons."
    )
    assert said in bourg
    assert "à partir de 15\u00a0ventes d’un même type" in bourg and "<svg" not in bourg
    assert 'href="/departement/01/">Toutes les communes de l’Ain</a>' in bourg
    hendaye = (built.site / "ville" / "64260" / "index.html").read_text("utf-8")
    assert 'name="robots"' not in hendaye and hendaye.count("<svg") == 3


VNU = ROOT / ".venv" / "node" / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
# A few pages, checked once: the JIT's first tier and one GC thread take half the CPU of Java's
# defaults (2.7 s against 5.6 s here). That tier recurses deeper, hence a larger thread stack.
JVM = ["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xss8m"]
SAMPLE = [
    "index.html",
    "ville/01053/index.html",  # a commune with figures
    "ville/01001/index.html",  # one without
    "ville/75056/index.html",  # Paris and its arrondissements
    "ville/97611/index.html",  # a place DVF does not cover
    "departement/01/index.html",
    "region/84/index.html",
    "communes/index.html",
    "methodologie/index.html",
    "mentions-legales/index.html",
    "404.html",
    "admin/index.html",
]


def test_the_nu_html_checker_finds_no_error(built: Paths) -> None:
    java = shutil.which("java")
    if not java or not VNU.exists():  # CI installs both (.ci/install): there, their absence fails
        if os.environ.get("CI"):
            raise RuntimeError(f"the Nu HTML checker needs java and {VNU}: run .ci/install")
        pytest.skip(f"needs java and {VNU}: run .ci/install")
    files = [str(built.site / rel) for rel in SAMPLE]
    proc = subprocess.run(
        [java, *JVM, "-jar", str(VNU), "--errors-only", *files], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
