"""Site-wide files: the search index, sitemaps, robots.txt, the `_headers` rules and `.nojekyll`
(without it GitHub Pages runs Jekyll over the deploy branch, which drops `_headers` and takes
minutes over 70,000 files).

They depend on the referential and the site settings, and the sitemap on the list of pages
without any figure (build/unpublished.json, which stats rewrites only when it changes): a new DVF
release rewrites them only when a place gains or loses its first figure.
"""

from __future__ import annotations

import html
from pathlib import Path

import orjson

from rules import placedoc
from rules import places as pl
from rules.files import canonical_json, write_if_changed
from rules.paths import HEADERS as HEADERS_FILE
from rules.paths import NOJEKYLL, ROBOTS, SCHEMA, SEARCH_INDEX, SITEMAP, Paths, sitemap_part
from rules.render import url
from rules.site import load as load_site

SITEMAP_MAX = 50_000  # URLs per sitemap file (sitemaps.org protocol)
RELEASE_PAGES = {"methodologie.html"}  # the site-wide pages that state the DVF release
REFERENTIAL_PAGES = {"communes.html"}  # the site-wide pages that list the departments
STATIC_PAGES = {
    "communes.html": "communes/index.html",  # where the search form goes without JavaScript
    "methodologie.html": "methodologie/index.html",
    "mentions-legales.html": "mentions-legales/index.html",
    "404.html": "404.html",
}

# Nothing is loaded from elsewhere: no external font, script, style or tile.
CSP = "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'self'; frame-ancestors 'none'"
HEADERS = f"""\
# Cloudflare Pages / Netlify headers. All matching rules apply.
/*
  X-Content-Type-Options: nosniff
  Referrer-Policy: strict-origin-when-cross-origin
  Content-Security-Policy: {CSP}
/assets/*
  Cache-Control: public, max-age=31536000, immutable
/data/*
  Cache-Control: public, max-age=86400
  X-Robots-Tag: noindex
/ville/*
  Cache-Control: public, max-age=604800
/api/*
  X-Robots-Tag: noindex
  Cache-Control: no-cache
/admin/*
  X-Robots-Tag: noindex
  Cache-Control: no-cache
"""


def _xml(text: str) -> str:
    """&, < and > escaped for an XML text node, as xml.sax.saxutils.escape does: importing that
    module imports urllib.request, http.client and ssl with it (8 ms of every doit)."""
    return html.escape(text, quote=False)


def targets(paths: Paths, places: dict[tuple[str, str], pl.Place]) -> list[Path]:
    """Every file `write` produces, the split sitemaps included."""
    chunks = sitemap_parts(places)
    return [
        *(paths.site_file(name) for name in (SEARCH_INDEX, SCHEMA, ROBOTS, HEADERS_FILE, SITEMAP)),
        *(paths.site_file(sitemap_part(i)) for i in range(1, chunks + 1) if chunks > 1),
        paths.site_file(NOJEKYLL),
    ]


def write(paths: Paths) -> None:
    """Write every site-wide file (each only when its bytes change)."""
    site = load_site(paths.site_config)
    places = pl.all_places(site.scope)
    write_if_changed(paths.site_file(SEARCH_INDEX), canonical_json(search_index(places)))
    write_if_changed(paths.site_file(SCHEMA), published_schema(site.url))
    write_if_changed(paths.site_file(ROBOTS), robots(site.url).encode())
    write_if_changed(paths.site_file(HEADERS_FILE), HEADERS.encode())
    write_if_changed(paths.site_file(NOJEKYLL), b"")  # GitHub Pages: serve the files as they are
    empty = set(orjson.loads(paths.unpublished.read_bytes()))
    urls = [u for u in page_urls(places) if u not in empty]
    _write_sitemaps(paths, site.url, urls, sitemap_parts(places))


def published_schema(site_url: str) -> bytes:
    """The per-place JSON's schema, with its own public URL as its id."""
    schema = orjson.loads(placedoc.SCHEMA.read_bytes())
    return canonical_json({**schema, "$id": f"{site_url}/{SCHEMA}"})


def search_index(places: dict[tuple[str, str], pl.Place]) -> list[list[str]]:
    """[code, name, postcodes] per commune, arrondissement and city, most populous first, so the
    first matches a phone shows are the likely ones (the department is the code's start)."""
    communes = [p for (lv, _), p in places.items() if lv == "commune"]
    communes.sort(key=lambda p: (-(p.population or 0), p.code))
    return [[p.code, p.nom, " ".join(p.codes_postaux)] for p in communes]


def page_urls(places: dict[tuple[str, str], pl.Place]) -> list[str]:
    return ["/", "/communes/", "/methodologie/", "/mentions-legales/"] + [
        url(level, code) for level, code in places if level != "france"
    ]


def sitemap_parts(places: dict[tuple[str, str], pl.Place]) -> int:
    """How many sitemap files: from every page, so that doit knows the files before stats runs
    (the pages without figures that are left out only make the parts shorter)."""
    return max(1, -(-len(page_urls(places)) // SITEMAP_MAX))


def robots(site_url: str) -> str:
    """Pages are indexable; per-sale data under /data/ is not (decree 2018-1350)."""
    return (
        "User-agent: *\nDisallow: /data/\nDisallow: /api/\nDisallow: /admin/\n\n"
        f"Sitemap: {site_url}/{SITEMAP}\n"
    )


def _write_sitemaps(paths: Paths, site_url: str, urls: list[str], parts: int) -> None:
    """One sitemap.xml, or an index of `parts` sitemap-N.xml files sharing the URLs."""
    size = max(1, -(-len(urls) // parts))
    chunks = [urls[i * size : (i + 1) * size] for i in range(parts)]
    for old in paths.site.glob(sitemap_part("*")):  # the parts of a larger site
        if len(chunks) == 1 or int(old.stem.split("-")[1]) > len(chunks):
            old.unlink()
    if len(chunks) == 1:
        write_if_changed(paths.site_file(SITEMAP), _urlset(site_url, chunks[0]))
        return
    for i, chunk in enumerate(chunks, start=1):
        write_if_changed(paths.site_file(sitemap_part(i)), _urlset(site_url, chunk))
    entries = "".join(
        f"<sitemap><loc>{_xml(site_url)}/{sitemap_part(i)}</loc></sitemap>\n"
        for i in range(1, len(chunks) + 1)
    )
    index = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n{entries}</sitemapindex>\n'
    )
    write_if_changed(paths.site_file(SITEMAP), index.encode())


def _urlset(site_url: str, urls: list[str]) -> bytes:
    body = "".join(f"<url><loc>{_xml(site_url + u)}</loc></url>\n" for u in urls)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n{body}</urlset>\n'
    ).encode()
