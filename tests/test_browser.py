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

import pytest

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


def _shot(pg: object, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("width", [375, 1280])
def test_commune_page_fits_the_screen_and_shows_its_chart(page: object, server: str, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{server}/ville/01053/")
    page.wait_for_selector("#recent-sales table")  # recent sales loaded from /data/
    page.wait_for_selector("#compare table")  # comparison filled from the department, region and France
    scroll_width, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert scroll_width <= inner, f"horizontal scroll at {width}px: {scroll_width} > {inner}"
    chart = page.locator("figure.chart svg").first
    assert chart.is_visible()
    box = chart.bounding_box()
    assert box["width"] > 200 and box["height"] > 80 and box["x"] + box["width"] <= width
    assert page.locator("#compare table tbody tr").count() == 4
    assert "Ain" in page.inner_text("#compare")
    _shot(page, f"commune-01053-{width}")


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("ambérieu", "/ville/01004/"),  # with the accent
        ("AMBERIEU EN BUGEY", "/ville/01004/"),  # without, in capitals
        ("st denis les bourg", "/ville/01344/"),  # "st" for "saint", no accent on "lès"
        ("01000", "/ville/01053/"),  # a postcode: the most populous commune first
        ("75056", "/ville/75056/"),  # an INSEE code
    ],
)
def test_search_reaches_the_right_page(page: object, server: str, typed: str, expected: str) -> None:
    page.goto(f"{server}/")
    page.click("#q")
    page.keyboard.type(typed)
    page.wait_for_selector("#q-list li")
    if typed == "ambérieu":
        _shot(page, "search-375")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{server}{expected}")
    assert page.locator("h1").count() == 1


@pytest.mark.parametrize(
    "path", ["/ville/01053/", "/ville/97611/", "/departement/01/", "/", "/methodologie/"]
)
def test_no_serious_accessibility_violation(page: object, server: str, path: str) -> None:
    page.goto(f"{server}{path}")
    page.wait_for_load_state("networkidle")
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
    pg.goto(f"{server}/ville/01053/")
    assert pg.locator("figure.chart svg").first.is_visible()  # charts are drawn at build time
    assert pg.locator('#compare a[href="/departement/01/"]').is_visible()  # the no-script comparison
    assert "JavaScript" in pg.inner_text("#recent-sales")
    context.close()
