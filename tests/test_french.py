"""The site read as a French reader reads it: names with their article, agreement, typography.

The rules come from INSEE's `typeLiaison` (the article a name takes), checked on real names of
every kind, then on every page of a built site, where any fault on any page fails.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import orjson
import pytest

from rules import fr
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


class _Text(HTMLParser):
    """The text a reader sees (scripts and styles aside), the title and meta description, the
    breadcrumbs, the table cells and whether the page asks not to be indexed."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title = ""
        self.crumbs: list[str] = []
        self.cells: list[str] = []
        self.noindex = False
        self._skip = 0
        self._svg = 0  # an SVG's <title> is not the page's
        self._in: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag in ("script", "style"):
            self._skip += 1
        self._svg += tag == "svg"
        if tag == "meta" and a.get("name") == "description":
            self.parts.append(a.get("content") or "")
        if tag == "meta" and a.get("name") == "robots" and "noindex" in (a.get("content") or ""):
            self.noindex = True
        if tag == "nav" and a.get("class") == "crumbs":
            self._in.append("crumbs")
        if tag in ("title", "td", "li"):
            self._in.append(tag)
            if tag == "td":
                self.cells.append("")
            if tag == "li" and "crumbs" in self._in:
                self.crumbs.append("")
        self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip -= 1
        self._svg -= tag == "svg"
        if tag in ("title", "td", "li", "nav") and self._in:
            self._in.pop()
        self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        self.parts.append(data)
        if self._in and self._in[-1] == "title" and not self._svg:
            self.title += data
        if self._in and self._in[-1] == "td":
            self.cells[-1] += data
        if self._in and self._in[-1] == "li" and "crumbs" in self._in:
            self.crumbs[-1] += data


SPACE = "[ \u00a0\u202f]"
NEED_ARTICLE = [
    p.nom for (lv, _), p in pl.all_places().items() if lv == "departement" and p.liaison in (2, 4, 5)
]
FAULTS = [
    (re.compile(rf"\b(à|de){SPACE}(Le|Les){SPACE}"), "a preposition before Le/Les (au, aux, du, des)"),
    (
        re.compile(rf"\ben{SPACE}(Paris|{'|'.join(map(re.escape, NEED_ARTICLE))})\b"),
        "en before a name with an article",
    ),
    (
        re.compile(rf"(?<![\d\u202f]){'[01]'}{SPACE}(ventes|appartements|maisons|lignes|fichiers)\b"),
        "a plural after 0 or 1",
    ),
    (re.compile(r"\bLes 1\b"), "Les 1"),
    (re.compile(r"\d(er|e) Arrondissement"), "Arrondissement with a capital"),
    (re.compile(r"'"), "a straight apostrophe"),
    (re.compile(r"[ \u00a0][:;!?]"), "an ordinary space before : ; ! ?"),
    (re.compile(r"[^\s\u202f\d][;!?]|[^\s\u202f\d/]:(?!//)"), "no narrow no-break space before : ; ! ?"),
    (re.compile(r"«(?!\u202f)|(?<!\u202f)»"), "« » without narrow no-break spaces"),
    (re.compile(r"\d{4}-T\d"), "a quarter written 2021-T1"),
    (re.compile(rf"\d{{4,}}{SPACE}?(ventes?|lignes?|€)"), "a number without thousands separator"),
    (re.compile(r"\bR112\b"), "R112 for R. 112"),
]


def _pages(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


def test_every_page_reads_as_a_french_editor_would_write_it(built: Paths) -> None:
    """Every HTML page of the build: no grammar or typography fault from the issue's list, titles
    under 65 characters, no place named twice in a row, and honest pages kept out of the index."""
    faults: list[str] = []
    empty = set(orjson.loads(built.unpublished.read_bytes()))
    sitemap = (built.site / "sitemap.xml").read_text("utf-8")
    pages = _pages(built.site)
    assert len(pages) > 400
    for page in pages:
        parser = _Text()
        parser.feed(page.read_text("utf-8"))
        text = re.sub(r"[ \t\r\n]+", " ", "".join(parser.parts))  # \s would take U+00A0 and U+202F too
        rel = page.relative_to(built.site).as_posix()
        for pattern, what in FAULTS:
            if m := pattern.search(text):
                faults.append(f"{rel}: {what}: …{text[max(0, m.start() - 40) : m.end() + 20]}…")
        if len(parser.title.strip()) > 65:
            faults.append(f"{rel}: title of {len(parser.title.strip())} characters: {parser.title}")
        crumbs = [c.strip() for c in parser.crumbs]
        if any(a == b for a, b in zip(crumbs, crumbs[1:], strict=False)):
            faults.append(f"{rel}: a place twice in the breadcrumbs: {crumbs}")
        if m := re.search(r"Comparer avec ([^.]*)\.", text):
            named = [n.strip() for n in re.split(r",| et ", m.group(1))]
            if len(named) != len(set(named)):
                faults.append(f"{rel}: a place twice in the comparison: {named}")
        faults += [
            f"{rel}: a count without separator: {c}" for c in parser.cells if re.fullmatch(r"\d{4,}", c)
        ]
        url = "/" + rel.removesuffix("index.html")
        if url in empty:
            assert parser.noindex and f"{url}</loc>" not in sitemap, url
            assert "Pourquoi aucun prix" in text and "Répartition des prix" not in text, url
    assert not faults, "\n".join(faults[:20]) + f"\n({len(faults)} faults)"


def test_a_place_without_figures_gets_a_short_honest_page(built: Paths) -> None:
    empty = set(orjson.loads(built.unpublished.read_bytes()))
    assert {"/ville/97611/", "/ville/01053/"} <= empty and "/ville/64260/" not in empty
    mayotte = (built.site / "ville" / "97611" / "index.html").read_text("utf-8")
    assert "La DGFiP ne publie pas les ventes de Mayotte dans DVF." in mayotte
    assert "Pas assez de ventes" not in mayotte and "<svg" not in mayotte  # no empty chart sections
    assert mayotte.count("<section") <= 2 and "Dernières ventes" not in mayotte
    bourg = (built.site / "ville" / "01053" / "index.html").read_text("utf-8")  # 13 sales, too few
    said = (
        "DVF compte à Bourg-en-Bresse 13\u00a0ventes retenues depuis le 6 janvier 2020, "
        "dont 10\u00a0appartements et 3\u00a0maisons sur 2020–2021."
    )
    assert said in bourg
    assert "à partir de 15\u00a0ventes d’un même type" in bourg and "<svg" not in bourg
    assert 'href="/departement/01/">Toutes les communes de l’Ain</a>' in bourg
    hendaye = (built.site / "ville" / "64260" / "index.html").read_text("utf-8")
    assert 'name="robots"' not in hendaye and hendaye.count("<svg") == 3


VNU = ROOT / ".venv" / "node" / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
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
    proc = subprocess.run([java, "-jar", str(VNU), "--errors-only", *files], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
