"""Choropleth maps drawn at build time: inline SVG, no tiles, no script, no request off the site.

A map is a function of the vendored contours (rules/contours.py) and of figures its page already
holds (a department's communes, a region's departments, France's departments in
/data/resume.json), so it changes exactly when its page does. Each shape is a link to its place's
page whose title gives the name and the figures (what a screen reader and a tooltip read); the
colours follow classes of the map's own published medians, shown in a legend; a place without a
published median is hatched. Flats and houses are two radio buttons that recolour the same shapes
with CSS alone (`:has`), so the shapes are sent once.
"""

from __future__ import annotations

import hashlib
import math
import shutil
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

import orjson

from rules import contours, dvf
from rules.files import canonical_json, write_if_changed
from rules.fr import NNBSP, compte, euros, nombre

WIDTH = 1000  # viewBox units across the main frame
PAD = 6
INSET = 150  # the overseas departments' column on the map of France
COLOURS = ("#ffffcc", "#a1dab4", "#41b6c4", "#2c7fb8", "#253494")  # ColorBrewer YlGnBu, 5 classes
CLASSES = len(COLOURS)
TYPE_NAMES = {"appartement": "appartements", "maison": "maisons"}
LETTER = {"appartement": "a", "maison": "m"}


class Item(NamedTuple):
    """A place on a map: its code (its contour's key), name, page, median per type (None: not
    published) and the sales each rests on."""

    code: str
    nom: str
    href: str
    medians: dict[str, int | None]
    sales: dict[str, int]
    covered: bool = True  # False: DVF publishes nothing there (Alsace-Moselle, Mayotte)


Point = tuple[float, float]


def _lambert_constants(p1: float, p2: float) -> tuple[float, float]:
    """The cone's constant n and scale f for standard parallels p1 and p2 (radians)."""
    n = math.log(math.cos(p1) / math.cos(p2)) / math.log(
        math.tan(math.pi / 4 + p2 / 2) / math.tan(math.pi / 4 + p1 / 2)
    )
    return n, math.cos(p1) * math.tan(math.pi / 4 + p1 / 2) ** n / n


_N, _F = _lambert_constants(math.radians(44), math.radians(49))  # once, not per point (~12,000 a department)
_LON0 = math.radians(3)


def _lambert(lon: float, lat: float) -> Point:
    """Lambert conformal conic on the sphere, France's parallels (44° and 49° N, 3° E): the shape
    of France as its official maps draw it, in units of the Earth's radius (y grows southwards)."""
    rho = _F / math.tan(math.pi / 4 + math.radians(lat) / 2) ** _N
    theta = _N * (math.radians(lon) - _LON0)
    return rho * math.sin(theta), rho * math.cos(theta) - _F  # northwards is -y


def _plate(lon: float, lat: float, middle: float) -> Point:
    """Equirectangular around `middle` (degrees of latitude), for the overseas departments, far
    from Lambert's parallels."""
    return math.radians(lon) * math.cos(math.radians(middle)), -math.radians(lat)


class _Frame:
    """Projected rings of some places fitted into a box of the viewBox."""

    def __init__(self, rings: dict[str, list[list[Point]]], x: float, y: float, width: float, height: float):
        xs = [p[0] for rs in rings.values() for r in rs for p in r]
        ys = [p[1] for rs in rings.values() for r in rs for p in r]
        self.rings = rings
        span_x, span_y = (max(xs) - min(xs)) or 1e-9, (max(ys) - min(ys)) or 1e-9
        self.scale = min(width / span_x, height / span_y if height else math.inf)
        self.height = span_y * self.scale
        self.x0, self.y0, self.left, self.top = min(xs), min(ys), x, y

    def path(self, code: str) -> str:
        """One SVG path for all of a place's rings: absolute start, then relative integer steps."""
        parts = []
        for ring in self.rings[code]:
            pts = [
                (round(self.left + (x - self.x0) * self.scale), round(self.top + (y - self.y0) * self.scale))
                for x, y in ring
            ]
            steps, (px, py) = [], pts[0]
            for x, y in pts[1:]:
                if (x, y) != (px, py):
                    steps.append(f"{x - px} {y - py}")
                    px, py = x, y
            if len(steps) >= 2:
                parts.append(f"M{pts[0][0]} {pts[0][1]}l" + " ".join(steps) + "z")
        return "".join(parts).replace(" -", "-")


def _projected(shapes: dict[str, contours.Rings], codes: Iterable[str], overseas: bool = False):
    out: dict[str, list[list[Point]]] = {}
    for code in codes:
        rings = [contours.points(r) for r in shapes[code]]
        if overseas:
            middle = sum(lat for r in rings for _, lat in r) / sum(len(r) for r in rings)
            out[code] = [[_plate(lon, lat, middle) for lon, lat in r] for r in rings]
        else:
            out[code] = [[_lambert(lon, lat) for lon, lat in r] for r in rings]
    return out


def breaks(values: Sequence[int]) -> list[int]:
    """Class limits: the quantiles of the map's published medians, rounded to 100 € (50 € for a
    narrow range), at most CLASSES classes, each limit once."""
    if not values:
        return []
    ordered = sorted(values)
    step = 100 if ordered[-1] - ordered[0] >= 1000 else 50
    limits: list[int] = []
    for i in range(1, CLASSES):
        q = ordered[min(len(ordered) - 1, len(ordered) * i // CLASSES)]
        limit = round(q / step) * step
        if ordered[0] < limit <= ordered[-1] and (not limits or limit > limits[-1]):
            limits.append(limit)
    return limits


def colour(value: int | None, limits: list[int]) -> int:
    """The colour number (1 to CLASSES, an index of COLOURS plus one) of a median on a map with
    these limits, the palette spread over the classes there are; 0 for no published median."""
    return 0 if value is None else _number(bisect_right(limits, value), len(limits) + 1)


def _number(i: int, k: int) -> int:
    """The colour number of class i of k: the palette spread over the classes there are."""
    return 1 + (round(i * (CLASSES - 1) / (k - 1)) if k > 1 else CLASSES // 2)


def legend(limits: list[int]) -> list[tuple[int, int | None, int | None, str]]:
    """(colour number, low, high, label) per class: "moins de 1 800 €/m²", "de 1 800 à 2 100 €/m²",
    "2 500 €/m² et plus"; a value v is in a class when low <= v < high."""
    bounds = [None, *limits, None]
    out = []
    for i in range(len(limits) + 1):
        low, high = bounds[i], bounds[i + 1]
        if low is None and high is None:
            label = "prix publié"  # every published median in one class
        elif low is None:
            label = f"moins de {euros(high, '/m²')}"
        elif high is None:
            label = f"{euros(low, '/m²')} et plus"
        else:  # medians are whole euros: the class ends one euro under the next one's start
            label = f"de {nombre(low)} à {euros(high - 1, '/m²')}"
        out.append((_number(i, len(limits) + 1), low, high, label))
    return out


def _label(item: Item, types: Sequence[str]) -> str:
    """The accessible text of a shape, each median with its sales: 'Bourg-en-Bresse — appartements :
    2 150 €/m² (45 ventes) ; maisons : prix non publié (12 ventes)', or 'Moselle — hors DVF :
    aucune vente publiée'."""
    if not item.covered:
        return f"{item.nom} — hors DVF{NNBSP}: aucune vente publiée"
    said = [f"{TYPE_NAMES[t]}{NNBSP}: {_figure(item.medians.get(t), item.sales.get(t, 0))}" for t in types]
    return f"{item.nom} — " + f"{NNBSP}; ".join(said)


def _figure(median: int | None, sales: int) -> str:
    """A median with its sales; 'prix non publié (12 ventes)' below the threshold, 'aucune vente'
    where there was none (not a price withheld)."""
    if not sales:
        return "aucune vente"
    figure = "prix non publié" if median is None else euros(median, "/m²")
    return f"{figure} ({compte(sales, 'vente')})"


class Geometry(NamedTuple):
    """A map's drawing, apart from its figures: its height, one SVG path per place, the boxes of
    its insets. What costs: projecting and fitting ~12,000 points, 20 ms of a department's page."""

    height: int
    paths: dict[str, str]
    insets: list[tuple[int, int, int, int]]


def geometry(shapes: dict[str, contours.Rings], codes: list[str], insets: bool) -> Geometry:
    """The places `codes` of `shapes` fitted into the map; with `insets` (France), the overseas
    departments are boxes in a column on the left."""
    overseas = [c for c in codes if c.startswith("97")] if insets else []
    left = INSET + PAD if overseas else PAD
    main = [c for c in codes if c not in overseas]
    frames = [_Frame(_projected(shapes, main), left, PAD, WIDTH - left - PAD, 0)]
    height = frames[0].height + 2 * PAD
    box = (height - PAD) / max(1, len(overseas))
    for n, code in enumerate(overseas):
        frames.append(
            _Frame(_projected(shapes, [code], True), PAD, PAD + n * box, INSET - 2 * PAD, box - 2 * PAD)
        )
    return Geometry(
        math.ceil(height),
        {code: f.path(code) for f in frames for code in f.rings},
        [(round(f.left) - 3, round(f.top) - 3, INSET - 2 * PAD + 6, round(f.height) + 6) for f in frames[1:]],
    )


class GeometryCache:
    """Geometries kept in build/, one JSON file each, named by a hash of everything a geometry is
    made from: the contours' bytes, the places drawn and the insets, in a folder named by the code
    of this module and rules/contours.py (a new folder replaces the others: about 5 MB for France).
    A release re-renders every department's page with new figures on the same shapes; their maps
    then cost the figures alone (France: 2.8 s -> 0.4 s for the 123 maps). A file that is not a
    geometry (a damaged cache) is computed again; paths reach the page through autoescaping."""

    def __init__(self, folder: Path, source: Path) -> None:
        self.root, self.folder, self.source = folder, folder / _code_digest()[:16], source

    def geometry(self, shapes: dict[str, contours.Rings], codes: list[str], insets: bool) -> Geometry:
        key = hashlib.sha256(orjson.dumps([contours.digest(self.source), codes, insets])).hexdigest()
        file = self.folder / f"{key[:32]}.json"
        kept = _read_geometry(file, codes)
        if kept is not None:
            return kept
        made = geometry(shapes, codes, insets)
        if not self.folder.exists() and self.root.exists():  # the code changed: older shapes go
            for old in self.root.iterdir():
                if old.is_dir():
                    shutil.rmtree(old)
                else:
                    old.unlink()
        write_if_changed(file, canonical_json(made._asdict()))
        return made


def _read_geometry(file: Path, codes: list[str]) -> Geometry | None:
    try:
        data = orjson.loads(file.read_bytes())
        made = Geometry(data["height"], data["paths"], [tuple(box) for box in data["insets"]])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    valid = (
        isinstance(made.height, int)
        and isinstance(made.paths, dict)
        and set(made.paths) == set(codes)
        and all(isinstance(d, str) for d in made.paths.values())
        and all(len(box) == 4 and all(isinstance(v, int) for v in box) for box in made.insets)
    )
    return made if valid else None


@cache
def _code_digest() -> str:
    """The geometry's code: this module and the contours' decoding."""
    return hashlib.sha256(Path(__file__).read_bytes() + Path(contours.__file__).read_bytes()).hexdigest()


def draw(
    items: list[Item],
    shapes: dict[str, contours.Rings],
    title: str,
    unit: str,
    others: Sequence[str] = (),
    insets: bool = False,
    geometries: GeometryCache | None = None,
) -> dict[str, Any] | None:
    """What templates/_carte.html draws for `items` (those with a contour), or None when none has
    a contour or none a published median; `unit` names its places (commune, arrondissement,
    département) for the line under it. `others` are places outside the site drawn plain,
    without a link, so a partial site still shows its region or France whole; with `insets`
    (France), the overseas departments are boxes in a column on the left."""
    drawn = [i for i in items if i.code in shapes]
    types = [t for t in dvf.TYPES if any(i.medians.get(t) is not None for i in drawn)]
    if not drawn or not types:
        return None
    background = [c for c in others if c in shapes]
    codes = [i.code for i in drawn] + background
    shape = geometries.geometry(shapes, codes, insets) if geometries else geometry(shapes, codes, insets)
    limits = {t: breaks([m for i in drawn if (m := i.medians.get(t)) is not None]) for t in types}
    return {
        "title": title,
        "unit": unit,
        "types": types,
        "default": max(types, key=lambda t: sum(i.medians.get(t) is not None for i in drawn)),
        "width": WIDTH,
        "height": shape.height,
        "shapes": [
            (i.href, _label(i, types), _classes(i, types, limits), shape.paths[i.code]) for i in drawn
        ],
        "others": [shape.paths[c] for c in background],
        "insets": shape.insets,
        "legends": {t: legend(limits[t]) for t in types},
        "missing": [i.nom for i in items if i.code not in shapes],
        "uncovered": any(not i.covered for i in drawn),
    }


def _classes(item: Item, types: Sequence[str], limits: dict[str, list[int]]) -> str:
    if not item.covered:
        return "x"
    return " ".join(f"{LETTER[t]}{colour(item.medians.get(t), limits[t])}" for t in types)
