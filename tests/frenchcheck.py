"""What a French editor would flag on a page: shared by the department build's test (every page)
and the France build's (every page whose name takes an article, every department and region)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from rules import places as pl


class Text(HTMLParser):
    """The text a reader sees (scripts and styles aside), the title and meta description, the
    breadcrumbs, the table cells and whether the page asks not to be indexed."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title = ""
        self.crumbs: list[str] = []
        self.cells: list[str] = []
        self.noindex = False
        self.text = ""
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
        re.compile(
            rf"\ben{SPACE}(Paris|{'|'.join(map(re.escape, NEED_ARTICLE))})(?![\w-])"
        ),  # en Eure-et-Loir
        "en before a name with an article",
    ),
    (
        re.compile(rf"(?<![\d\u202f]){'[01]'}{SPACE}(ventes|appartements|maisons|lignes|fichiers)\b"),
        "a plural after 0 or 1",
    ),
    (re.compile(r"\bLes 1\b"), "Les 1"),
    (re.compile(r"\bà (Paris|Lyon|Marseille) \d+(er|e) arrondissement"), "à Paris 15e arrondissement"),
    (re.compile(r"\d(er|e) Arrondissement"), "Arrondissement with a capital"),
    (re.compile(r"'"), "a straight apostrophe"),
    (re.compile(r"[ \u00a0][:;!?]"), "an ordinary space before : ; ! ?"),
    (re.compile(r"[^\s\u202f\d][;!?]|[^\s\u202f\d/]:(?!//)"), "no narrow no-break space before : ; ! ?"),
    (re.compile(r"«(?!\u202f)|(?<!\u202f)»"), "« » without narrow no-break spaces"),
    (re.compile(r"\d{4}-T\d"), "a quarter written 2021-T1"),
    (re.compile(rf"\d{{4,}}{SPACE}?(ventes?|lignes?|€)"), "a number without thousands separator"),
    (re.compile(r"\bR112\b"), "R112 for R. 112"),
]


def check(rel: str, html: str) -> tuple[Text, list[str]]:
    """The page parsed, and its faults: grammar and typography, a title over 65 characters, a
    place named twice in the breadcrumbs or the comparison, a count without separator."""
    parser = Text()
    parser.feed(html)
    parser.text = re.sub(r"[ \t\r\n]+", " ", "".join(parser.parts))  # \s would take U+00A0 and U+202F too
    text, faults = parser.text, []
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
    faults += [f"{rel}: a count without separator: {c}" for c in parser.cells if re.fullmatch(r"\d{4,}", c)]
    return parser, faults
