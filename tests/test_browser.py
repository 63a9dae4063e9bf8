"""The pages in a real headless Chromium (Debian's), served from 127.0.0.1.

Screenshots go to tests/artifacts/ so a person can open them.
"""

from __future__ import annotations

import functools
import os
import shutil
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import orjson
import pytest
from frenchcheck import check

from rules import fr, maps
from rules.paths import ROOT, Paths

playwright = pytest.importorskip("playwright.sync_api")

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
AXE = ROOT / ".venv" / "node" / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = ROOT / "tests" / "artifacts"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

if not os.path.exists(CHROMIUM) or not AXE.exists():
    # CI installs both (.ci/install); elsewhere, say exactly what is missing rather than pass silently.
    if os.environ.get("CI"):
        raise RuntimeError(f"browser tests need {CHROMIUM} and {AXE}: run .ci/install")
    pytest.skip(
        f"needs Debian's chromium and axe-core ({CHROMIUM}, {AXE}): run .ci/install", allow_module_level=True
    )


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server(built: Paths) -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(built.site)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: object, server: str) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 375, "height": 800})
    pg = context.new_page()
    pg.requests = []  # type: ignore[attr-defined]
    pg.on("request", lambda r: pg.requests.append(r.url))
    yield pg
    context.close()
    assert all(u.startswith(server) for u in pg.requests), [
        u for u in pg.requests if not u.startswith(server)
    ]


def _settle(pg: object) -> None:
    """The page loaded and its scripts done: what they fetch (recent sales, the comparison) is
    in. Cheaper than waiting for an idle network, which always costs half a second more."""
    pg.wait_for_load_state("load")
    if pg.locator("#recent-sales").count():
        pg.wait_for_function("!document.querySelector('#recent-sales').textContent.includes('Activez')")
    if pg.locator("#compare").count():
        pg.wait_for_selector("#compare table, #compare p.muted")


def _shot(pg: object, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("width", [375, 1280])
def test_commune_page_fits_the_screen_and_shows_its_chart(page: object, server: str, width: int) -> None:
    """Hendaye (every figure published) on a phone and a desktop: no sideways scroll, charts of
    a sensible height whose axis text keeps its size, a comparison from one shared summary, the
    commune's own JSON fetched once, a favicon and not one console error."""
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{server}/ville/64260/")
    page.wait_for_selector("#recent-sales table")  # recent sales loaded from /data/
    page.wait_for_selector("#compare table")  # comparison filled from /data/resume.json
    page.wait_for_load_state("networkidle")
    scroll_width, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert scroll_width <= inner, f"horizontal scroll at {width}px: {scroll_width} > {inner}"
    charts = page.locator("figure.chart svg")
    assert charts.count() == 3
    for i in range(3):
        box = charts.nth(i).bounding_box()
        assert box["width"] > 200 and 120 <= box["height"] <= 260 and box["x"] + box["width"] <= width
    sizes = page.evaluate(
        "[...document.querySelectorAll('.chart .x span, .chart .y span, .chart .unit')]"
        ".map(e => parseFloat(getComputedStyle(e).fontSize))"
    )
    assert sizes and set(sizes) == {13.0}, sizes  # the same size at 375 and 1280 px
    assert page.locator("figure.chart .unit").first.inner_text() == "€ par m²"
    rows = page.locator("#compare table tbody tr")
    assert rows.count() == 4 and "Pyrénées-Atlantiques" in page.inner_text("#compare")
    assert "Nouvelle-Aquitaine" in rows.nth(2).inner_text() and "France" in rows.nth(3).inner_text()
    requested = [u.removeprefix(server) for u in page.requests]  # type: ignore[attr-defined]
    assert requested.count("/data/villes/64260.json") == 1 and requested.count("/data/resume.json") == 1
    assert not any(u.startswith(("/data/departements/", "/data/regions/", "/data/france")) for u in requested)
    icon = [u for u in requested if "favicon" in u]
    assert icon and page.request.get(server + icon[0]).status == 200
    assert not errors, errors
    _, faults = check("ville/64260/ (after its scripts ran)", page.content())
    assert not faults, faults  # the French rules hold for what the scripts write too
    _shot(page, f"commune-64260-{width}")


@pytest.mark.parametrize(
    ("path", "width"),
    [
        ("/", 375),
        ("/departement/64/", 375),
        ("/region/75/", 375),
        ("/ville/01053/", 375),
        ("/ville/64260/", 375),
        ("/ville/75056/", 375),
        ("/", 1280),
        ("/departement/64/", 1280),
    ],
)
def test_pages_fit_a_phone(page: object, server: str, path: str, width: int) -> None:
    """No page scrolls sideways; a table wider than the screen scrolls inside its own box."""
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{server}{path}")
    _settle(page)
    for box in page.locator("details").all():
        box.evaluate("d => d.open = true")  # the year and quarter tables too
    scroll_width, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert scroll_width <= inner, f"{path} scrolls sideways at {width}px: {scroll_width} > {inner}"
    cut = page.evaluate(
        "[...document.querySelectorAll('.scroll')].filter(e => e.scrollWidth > e.clientWidth)"
        ".map(e => [e.getAttribute('aria-label'), e.scrollWidth - e.clientWidth])"
    )
    assert not cut, f"{path} at {width}px: tables that do not fit: {cut}"  # they scroll, but need not
    if width == 375:
        _shot(page, f"{path.strip('/').replace('/', '-') or 'accueil'}-375")


def test_a_search_without_match_says_so(page: object, server: str) -> None:
    page.goto(f"{server}/")
    page.click("#q")
    page.keyboard.type("zzxq")
    page.wait_for_selector(
        "#q-status:has-text('Aucune commune')"
    )  # after "Chargement…", if the index is slow
    assert page.inner_text("#q-status") == "Aucune commune trouvée pour «\u202fzzxq\u202f»."
    assert page.locator("#q-list").is_hidden()
    page.keyboard.press("Backspace")
    page.keyboard.type("q")
    page.fill("#q", "hendaye")
    page.wait_for_selector("#q-list li")
    assert page.locator("#q-status").is_hidden()
    assert "64700" in page.inner_text("#q-list li")
    page.fill("#q", "paris")
    page.wait_for_selector("#q-list li")
    assert "département 75" in page.inner_text("#q-list li >> nth=0")  # not "75001" for all of Paris


SEARCHES = [
    ("ambérieu", "/ville/01004/"),  # with the accent
    ("AMBERIEU EN BUGEY", "/ville/01004/"),  # without, in capitals
    ("st denis les bourg", "/ville/01344/"),  # "st" for "saint", no accent on "lès"
    ("01000", "/ville/01053/"),  # a postcode: the most populous commune first
    ("75056", "/ville/75056/"),  # an INSEE code
]


def test_search_reaches_the_right_page(page: object, server: str) -> None:
    """Typed as people type, then Enter: the page they meant (the form is on every page; the
    methodology page is the lightest)."""
    for typed, expected in SEARCHES:
        page.goto(f"{server}/methodologie/")
        page.click("#q")
        page.keyboard.type(typed)
        page.wait_for_selector("#q-list li")
        if typed == "ambérieu":
            _shot(page, "search-375")
        page.keyboard.press("Enter")
        page.wait_for_url(f"{server}{expected}")
        assert page.locator("h1").count() == 1, typed


@pytest.mark.parametrize(
    "path",
    [
        "/ville/64260/",
        "/ville/01053/",
        "/ville/97611/",
        "/departement/64/",
        "/region/75/",
        "/",
        "/methodologie/",
    ],
)
def test_no_serious_accessibility_violation(page: object, server: str, path: str) -> None:
    page.goto(f"{server}{path}")
    _settle(page)
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    bad = [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert not bad, bad


def test_pages_work_without_javascript(browser: object, server: str) -> None:
    context = browser.new_context(java_script_enabled=False, viewport={"width": 375, "height": 800})
    pg = context.new_page()
    pg.goto(f"{server}/ville/64260/")
    assert pg.locator("figure.chart svg").first.is_visible()  # charts are drawn at build time
    assert pg.locator("figure.chart .x span").first.is_visible()  # and so are their axes
    assert pg.locator('#compare a[href="/departement/64/"]').is_visible()  # the no-script comparison
    assert "JavaScript" in pg.inner_text("#recent-sales")
    pg.fill("#q", "bourg")
    pg.keyboard.press("Enter")  # without JavaScript the form leads to the departments' list
    pg.wait_for_url(f"{server}/communes/?q=bourg")
    pg.click('a[href="/departement/01/"]')
    pg.click('a[href="/ville/01053/"]')
    assert "Bourg-en-Bresse" in pg.inner_text("h1")
    _shot(pg, "sans-javascript-01053-375")
    context.close()


def test_search_says_it_is_loading_and_the_comparison_says_when_it_failed(page: object, server: str) -> None:
    """A slow network: the index takes a second, and the search says it is loading meanwhile. A
    failed summary: the comparison says so and keeps its links; the page has no script error."""
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    held: list = []  # the index request, answered when the test says so
    page.route("**/data/recherche.json", lambda route: held.append(route))
    page.route("**/data/resume.json", lambda route: route.abort())
    page.goto(f"{server}/ville/64260/")
    page.click("#q")
    page.keyboard.type("bourg")
    page.wait_for_selector("#q-status:not([hidden])")
    assert page.inner_text("#q-status") == "Chargement de la liste des communes…"
    held[0].continue_()
    page.wait_for_selector("#q-list li")
    assert page.locator("#q-status").is_hidden()
    page.wait_for_selector("#compare p.muted")
    assert "La comparaison n’a pas pu être chargée" in page.inner_text("#compare")
    assert page.locator('#compare a[href="/departement/64/"]').is_visible() and not errors


def _rgb(hex_colour: str) -> str:
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgb({r}, {g}, {b})"


@pytest.mark.parametrize(("width", "script"), [(375, True), (1280, True), (375, False), (1280, False)])
def test_maps_are_visible_and_recolour_without_script(
    browser: object, server: str, width: int, script: bool
) -> None:
    """Pyrénées-Atlantiques' map, with and without JavaScript: drawn across the column, one
    shape per commune, Hendaye in its legend class's colour, the others hatched; the radio
    buttons switch colours and legend with CSS alone; legend text readable (at least 13 px)."""
    context = browser.new_context(java_script_enabled=script, viewport={"width": width, "height": 900})
    pg = context.new_page()
    pg.goto(f"{server}/departement/64/")
    svg = pg.locator("#carte svg")
    box = svg.bounding_box()
    assert box and box["width"] >= min(width - 40, 900) * 0.9 and 200 <= box["height"] <= 900 * 0.75 + 1, box
    assert pg.locator("#carte svg a").count() == 545
    hendaye = pg.locator('#carte a[href="/ville/64260/"] path')
    for typ in ("appartement", "maison"):
        pg.locator(f"#carte input.t-{typ}").check()
        legend = pg.locator(f"#carte .l-{typ}")
        assert legend.is_visible() and pg.locator("#carte .legende:visible").count() == 1
        colour = int(legend.locator("li").first.get_attribute("data-colour"))  # one class: Hendaye
        assert hendaye.evaluate("p => getComputedStyle(p).fill") == _rgb(maps.COLOURS[colour - 1])
        other = pg.locator('#carte a[href="/ville/64445/"] path')  # Pau: no figure in the sample
        assert "hachures" in other.evaluate("p => getComputedStyle(p).fill")
        sizes = legend.evaluate(
            "l => [...l.querySelectorAll('li')].map(e => parseFloat(getComputedStyle(e).fontSize))"
        )
        assert min(sizes) >= 13, sizes
    scroll_width = pg.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width
    pg.locator("#carte").scroll_into_view_if_needed()
    ARTIFACTS.mkdir(exist_ok=True)
    pg.locator("#carte").screenshot(
        path=str(ARTIFACTS / f"carte-64-{width}{'' if script else '-sans-js'}.png")
    )
    if width == 1280 and script:
        pg.goto(f"{server}/")
        pg.locator("#carte").screenshot(path=str(ARTIFACTS / "carte-france-1280.png"))
        assert pg.locator("#carte svg a").count() == 4 and pg.locator("#carte rect.inset").count() == 5
    context.close()


def test_the_explorer_sorts_filters_and_pages(page: object, server: str) -> None:
    """With JavaScript, the department's communes are one table: 50 rows, more on demand, a name
    filter (accents and case aside), and headers that sort (aria-sort says how)."""
    page.goto(f"{server}/departement/64/")
    rows = page.locator(".explorer table.explore tbody tr")
    status = page.locator(".explorer p[role=status]")
    assert rows.count() == 50 and status.inner_text() == "Les 50 premières sont affichées."
    assert page.inner_text(".explorer button.next") == "Afficher 50 communes de plus (495 restantes)"
    assert page.locator("details.more").count() == 0
    page.click(".explorer button.next")
    assert rows.count() == 100
    page.fill("#filtre-commune", "HENDAYE")
    assert rows.count() == 1 and "Hendaye" in rows.first.inner_text()
    assert status.inner_text() == "1\u00a0commune sur 545."
    page.fill("#filtre-commune", "zzz")
    assert rows.count() == 0 and "Aucune commune ne correspond" in status.inner_text()
    page.fill("#filtre-commune", "saint")
    saints = rows.count()
    assert 5 < saints <= 50 and all("saint" in t.lower() for t in rows.all_inner_texts())
    page.fill("#filtre-commune", "")
    page.click(".explore th[data-key=nom] button")
    names = [r.split("\t")[0] for r in rows.all_inner_texts()[:5]]
    assert (
        names == sorted(names, key=fr.cle)
        and page.get_attribute(".explore th[data-key=nom]", "aria-sort") == "ascending"
    )
    page.click(".explore th[data-key=nom] button")
    assert page.get_attribute(".explore th[data-key=nom]", "aria-sort") == "descending"
    page.click(".explore th[data-key=maison] button")
    assert "Hendaye" in rows.first.inner_text()  # the only published median comes first
    assert page.get_attribute(".explore th[data-key=n]", "aria-sort") is None
    _shot(page, "explorateur-64-375")


def test_the_estimate_is_quartiles_times_surface(page: object, server: str, built: Paths) -> None:
    """Hendaye, a 60 m² flat: first and third quartiles times the surface, the median between,
    rounded to the thousand euros; with 3 rooms, that group's median; a bad surface is one line."""
    current = orjson.loads((built.site / "data" / "villes" / "64260.json").read_bytes())["current_stats"]
    flats = current["appartement"]

    def amount(per_m2: int, surface: float = 60) -> str:
        return f"{round(per_m2 * surface / 1000) * 1000:,}".replace(",", "\u202f") + "\u202f€"

    page.goto(f"{server}/ville/64260/")
    result = page.locator("#estimation-resultat")
    page.fill("#surface", "60")
    page.click("#estimation button[type=submit]")
    text = result.inner_text()
    assert text.startswith(
        "Pour 60\u00a0m² à Hendaye, aux prix au m² des appartements vendus de 2019 à 2023"
    ), text
    assert f"entre {amount(flats['q1_m2'])} et {amount(flats['q3_m2'])}" in text, text
    assert f"{amount(flats['median_m2'])} au prix médian" in text
    assert f"Sur {flats['n']:,}".replace(",", "\u202f") in text
    three = flats["pieces"][2]
    page.select_option("#pieces", "3")
    page.click("#estimation button[type=submit]")
    text = result.inner_text()
    median = f"{three['median_m2']:,}".replace(",", "\u202f")
    assert f"Appartements de 3 pièces\u202f: prix médian de {median}\u202f€/m²" in text, text
    assert f"soit {amount(three['median_m2'])} pour 60\u00a0m²." in text, text
    page.check("#estimation input[value=maison]")
    page.fill("#surface", "112,5")
    page.select_option("#pieces", "")
    page.click("#estimation button[type=submit]")
    houses = current["maison"]
    assert (
        f"entre {amount(houses['q1_m2'], 112.5)} et {amount(houses['q3_m2'], 112.5)}" in result.inner_text()
    )
    page.fill("#surface", "beaucoup")
    page.click("#estimation button[type=submit]")
    assert result.inner_text() == (
        "Indiquez une surface comprise entre 9 et 1\u202f000\u00a0m²\u202f: "
        "seules les ventes dans cet intervalle sont retenues."
    )
    _, faults = check("ville/64260/ (estimate)", page.content())
    assert not faults, faults
    _shot(page, "estimation-64260-375")


def test_without_javascript_the_estimate_says_how_to_compute_it(browser: object, server: str) -> None:
    context = browser.new_context(java_script_enabled=False, viewport={"width": 375, "height": 800})
    pg = context.new_page()
    pg.goto(f"{server}/ville/64260/")
    assert pg.locator("#estimation").is_hidden()
    assert "multipliez votre surface par" in pg.inner_text("section[aria-labelledby=estim]")
    context.close()
