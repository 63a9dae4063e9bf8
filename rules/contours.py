"""The contours the maps are drawn from: vendored, simplified, compact.

`python -m rules.contours GEO` rebuilds `rules/reference/contours/` from `../shared/geo/`-style
sources (see rules/reference/PROVENANCE.md): IGN's commune polygons per metropolitan department
and Etalab's department contours. mapshaper (npm; `MAPSHAPER=path`, else `npx mapshaper`) snaps
the vertices that neighbours share, then simplifies the shared borders once, so two communes
never gap or overlap on a map; it runs only here, never in a build. A department's map shows
Paris, Lyon and Marseille by arrondissement; Lyon's and Marseille's are also in a finer file of
their own, for the city's map (Paris's department is its arrondissements).

Each file is a JSON object, code -> rings, each ring a flat list of integers: the first point
in 1e-4 degrees (lon, lat), then the differences to the next ones. A ring is drawn with the
even-odd rule, so holes need no structure of their own. Gzipped with a zero mtime: a rebuild
from the same sources is a no-op in git.
"""

from __future__ import annotations

import gzip
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

from rules import reference
from rules.files import sha256_file
from rules.paths import REFERENCE
from rules.places import records

HERE = REFERENCE / "contours"
DEPARTEMENTS = HERE / "departements.json.gz"
CITIES = {"69": "69123", "13": "13055"}  # cities with a finer file of their arrondissements
PIXELS = 700  # the width a map is simplified for: a vertex closer than a pixel is dropped
DEPARTEMENT_INTERVAL = 1000
SCALE = 10_000  # coordinates are stored in 1e-4 degrees (about 10 m)

Rings = list[list[int]]


def path(code: str, folder: Path = HERE) -> Path:
    """The contours of a department's communes, or of a city's arrondissements (69123, 13055)."""
    return folder / f"{code}.json.gz"


CITY_FILES = {"75056": "75", "69123": "69123", "13055": "13055"}  # Paris's department is its arrondissements


def for_place(level: str, code: str) -> Path | None:
    """The contours a place's map is drawn from (a department's communes, a city's arrondissements,
    the departments for a region or France), or None: no map (a commune, an overseas department)."""
    if level in ("region", "france"):
        return DEPARTEMENTS
    file = path(code) if level == "departement" else path(CITY_FILES[code]) if code in CITY_FILES else None
    return file if file and file.exists() else None


@cache
def load(file: Path) -> dict[str, Rings]:
    """code -> rings, as vendored; {} when the file does not exist (overseas departments)."""
    try:
        return json.loads(gzip.decompress(file.read_bytes()))
    except FileNotFoundError:
        return {}


@cache
def digest(file: Path) -> str:
    """The sha256 of a contour file's bytes (what a map's geometry is cached under), once a run."""
    return sha256_file(file)


def points(ring: list[int]) -> list[tuple[float, float]]:
    """A stored ring back to (lon, lat) degrees."""
    out, x, y = [], 0, 0
    for i in range(0, len(ring), 2):
        x, y = x + ring[i], y + ring[i + 1]
        out.append((x / SCALE, y / SCALE))
    return out


def _encode(geometry: dict[str, Any]) -> Rings:
    polygons = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
    rings = []
    for polygon in polygons:
        for ring in polygon:
            flat: list[int] = []
            px, py = 0, 0
            for lon, lat in ring[:-1]:  # GeoJSON repeats the first point
                x, y = round(lon * SCALE), round(lat * SCALE)
                if (x, y) != (px, py) or not flat:
                    flat += [x - px, y - py]
                px, py = x, y
            if len(flat) >= 6:
                rings.append(flat)
    return rings


def _mapshaper(*args: str) -> None:
    exe = os.environ.get("MAPSHAPER") or shutil.which("mapshaper")
    command = [exe] if exe else ["npx", "--yes", "mapshaper@0.6"]
    subprocess.run([*command, *args], check=True, capture_output=True)


def _simplified(source: Path, interval: int) -> dict[str, Rings]:
    """mapshaper: snap shared vertices, simplify shared arcs once (Visvalingam, `interval` metres)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.json"
        steps = ["-i", str(source), "snap", "snap-interval=0.0003", "-filter-fields", "code"]
        steps += ["-simplify", f"interval={interval}", "keep-shapes"]
        _mapshaper(*steps, "-o", str(out), "format=geojson", "precision=0.0001")
        features = json.loads(out.read_text("utf-8"))["features"]
    return {f["properties"]["code"]: _encode(f["geometry"]) for f in features if f["geometry"]}


def _write(file: Path, shapes: dict[str, Rings]) -> None:
    data = json.dumps(dict(sorted(shapes.items())), separators=(",", ":")).encode()
    with open(file, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as gz:
        gz.write(data)


def vendor(geo: Path, dest: Path = HERE) -> None:
    """Rebuild every contour file in `dest` from the sources in `geo`."""
    dest.mkdir(parents=True, exist_ok=True)
    departements = _simplified(geo / "departements-1000m.etalab.geojson", DEPARTEMENT_INTERVAL)
    known = {d["code"] for d in records(reference.DEPARTEMENTS)}  # metro and DROM: what DVF covers
    _write(dest / DEPARTEMENTS.name, {c: r for c, r in departements.items() if c in known})
    for source in sorted((geo / "communes-par-departement").glob("*.geojson")):
        dep = source.stem
        interval = _interval(source)
        _write(path(dep, dest), _simplified(source, interval))
        if city := CITIES.get(dep):  # finer, for the city's own map
            prefix = city[:2] + ("38" if dep == "69" else "2")  # 6938x, 132xx: its arrondissements
            inner = _simplified(source, _interval(source, prefix))
            _write(path(city, dest), {c: r for c, r in inner.items() if c.startswith(prefix)})


def _interval(source: Path, prefix: str = "") -> int:
    """About one pixel of a map drawn PIXELS wide: the larger side of the area, in metres, over
    PIXELS (Pas-de-Calais: 190 m; Paris: 15 m)."""
    lons, lats = [], []
    for f in json.loads(source.read_text("utf-8"))["features"]:
        if not f["properties"]["code"].startswith(prefix):
            continue
        g = f["geometry"]
        for polygon in g["coordinates"] if g["type"] == "MultiPolygon" else [g["coordinates"]]:
            for lon, lat in polygon[0]:
                lons.append(lon)
                lats.append(lat)
    middle = math.radians((min(lats) + max(lats)) / 2)
    width = (max(lons) - min(lons)) * 111_320 * math.cos(middle)
    height = (max(lats) - min(lats)) * 111_320
    return max(10, round(max(width, height) / PIXELS))


if __name__ == "__main__":
    vendor(Path(sys.argv[1]))
