"""The commune referential: vendored from Etalab's decoupage-administratif, compact.

The repository must build from a fresh clone, so the referential is copied into
`rules/reference/` as three small gzipped CSV files. `python -m rules.reference SRC GEO` rebuilds
them from a `decoupage-administratif` `data/` folder (communes, departements, regions JSON) and
a folder with geo.api.gouv.fr's commune centres (`communes-centres.geoapi.json`) and La Poste's
postcode base (`base-officielle-codes-postaux.laposte-2024-08.csv`, for the 45 arrondissements
of Paris, Lyon and Marseille, which geo.api.gouv.fr does not list). Only metropolitan France and
the overseas departments (DROM) are kept: DVF covers nothing else. Sources and licences:
rules/reference/PROVENANCE.md.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import sys
from pathlib import Path

from rules.files import sha256_file
from rules.paths import REFERENCE

HERE = REFERENCE
COMMUNES = HERE / "communes.csv.gz"
DEPARTEMENTS = HERE / "departements.csv.gz"
REGIONS = HERE / "regions.csv.gz"
FILES = (COMMUNES, DEPARTEMENTS, REGIONS)


def digests() -> list[str]:
    """The sha256 of each vendored file: what the store records of the referential it holds."""
    return [sha256_file(p) for p in FILES]


# liaison: INSEE's TNCC ("typeLiaison"), the article a name takes: rules/fr.py turns it into French.
COMMUNE_COLUMNS = [
    "code",
    "kind",
    "nom",
    "departement",
    "region",
    "parent",
    "codes_postaux",
    "population",
    "liaison",
    "lat",  # the commune's centre (geo.api.gouv.fr; La Poste for arrondissements), 4 decimals
    "lon",
]
_SCOPE = {"metro", "drom"}


def _commune_rows(entries: list[dict], centres: dict[str, tuple[float, float]]) -> list[list[object]]:
    """Current communes and arrondissements, then former codes pointing at their current commune."""
    rows: dict[str, list[object]] = {}
    for e in entries:
        if e["zone"] not in _SCOPE:
            continue
        kind = {"commune-actuelle": "commune", "arrondissement-municipal": "arrondissement"}.get(e["type"])
        if kind:
            rows[e["code"]] = [
                e["code"],
                kind,
                _name(e["nom"]),
                e["departement"],
                e["region"],
                e.get("commune", ""),
                " ".join(e.get("codesPostaux", [])),
                e.get("population", ""),
                e.get("typeLiaison", ""),
                *(f"{v:.4f}" for v in centres[e["code"]]),
            ]
    current = {code: r for code, r in rows.items() if r[1] == "commune"}
    former: dict[str, str] = {}
    for e in entries:
        if e["zone"] not in _SCOPE:
            continue
        if e["type"] in ("commune-deleguee", "commune-associee"):
            former.setdefault(e["code"], e["chefLieu"])
        for old in e.get("anciensCodes", []) if e["type"] == "commune-actuelle" else []:
            former.setdefault(old, e["code"])
    for old, new in sorted(former.items()):
        if old not in rows and new in current:
            cur = current[new]
            rows[old] = [old, "former", "", cur[3], cur[4], new, "", "", "", "", ""]
    return [rows[k] for k in sorted(rows)]


def _name(nom: str) -> str:
    """The COG writes "Paris 15e Arrondissement" and "Castillon (Canton de Lembeye)"; French writes
    the common nouns in lower case."""
    return nom.replace(" Arrondissement", " arrondissement").replace("(Canton ", "(canton ")


def _write_csv_gz(path: Path, header: list[str], rows: list[list[object]]) -> None:
    """Deterministic bytes (mtime=0 in the gzip header) so a rebuild is a no-op in git."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as gz:
        gz.write(buf.getvalue().encode("utf-8"))


def _centres(geo: Path) -> dict[str, tuple[float, float]]:
    """(lat, lon) by INSEE code: geo.api.gouv.fr's centre of each commune's contour, and La Poste's
    centroid for each arrondissement (its first postcode's row)."""
    out = {c["code"]: (c["lat"], c["lon"]) for c in json.loads((geo / GEOAPI).read_text("utf-8"))}
    with open(geo / LAPOSTE, encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            code = row["code_commune_insee"]
            if code[:3] in ("751", "693", "132") and code not in out and row["_geopoint"]:
                lat, lon = row["_geopoint"].split(",")
                out[code] = (float(lat), float(lon))
    return out


GEOAPI = "communes-centres.geoapi.json"
LAPOSTE = "base-officielle-codes-postaux.laposte-2024-08.csv"


def vendor(src: Path, geo: Path, dest: Path = HERE) -> None:
    """Rebuild the compact referential in `dest` from decoupage-administratif JSON in `src` and
    the commune centres in `geo`."""
    dest.mkdir(parents=True, exist_ok=True)
    communes = json.loads((src / "communes.json").read_text("utf-8"))
    deps = json.loads((src / "departements.json").read_text("utf-8"))
    regs = json.loads((src / "regions.json").read_text("utf-8"))
    _write_csv_gz(dest / COMMUNES.name, COMMUNE_COLUMNS, _commune_rows(communes, _centres(geo)))
    _write_csv_gz(
        dest / DEPARTEMENTS.name,
        ["code", "nom", "region", "liaison"],
        [[d["code"], d["nom"], d["region"], d["typeLiaison"]] for d in deps if d["zone"] in _SCOPE],
    )
    _write_csv_gz(
        dest / REGIONS.name,
        ["code", "nom", "liaison"],
        [[r["code"], r["nom"], r["typeLiaison"]] for r in regs if r["zone"] in _SCOPE],
    )


if __name__ == "__main__":
    vendor(Path(sys.argv[1]), Path(sys.argv[2]))
