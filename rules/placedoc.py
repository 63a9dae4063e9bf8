"""The per-place JSON, the pipeline's main boundary: written by stats, read by render, the gate,
versions and the pages' scripts, and published under /data/ for reusers.

Its shape is declared in `rules/schema/place.schema.json` (JSON Schema, published as
/data/schema.json); the TypedDicts below give Python the same shape, and a test checks that both
list the same keys and that every file of a build validates.
"""

from collections.abc import Mapping
from typing import Any, NotRequired, TypedDict

from rules.paths import RULES

SCHEMA = RULES / "schema" / "place.schema.json"  # published as paths.SCHEMA


class Ref(TypedDict):
    code: str
    nom: str
    liaison: int


class Voisine(TypedDict):
    code: str
    nom: str
    liaison: int
    km: float


class Metadata(TypedDict):
    code: str
    nom: str
    liaison: int
    level: str
    method: dict[str, Any]
    window: dict[str, int]
    period: dict[str, Any] | None
    dvf_covered: NotRequired[bool]
    by_arrondissement: NotRequired[bool]
    departement: NotRequired[Ref]
    region: NotRequired[Ref]
    parent: NotRequired[Ref]
    arrondissements: NotRequired[list[Ref]]
    codes_postaux: NotRequired[list[str]]
    population: NotRequired[int | None]
    voisines: NotRequired[list[Voisine]]
    departements: NotRequired[list[Ref]]
    scope: NotRequired[list[Ref]]


class Pieces(TypedDict):
    pieces: int  # 5 stands for 5 and more
    n: int
    median_m2: int | None


class Figures(TypedDict):
    n: int
    published: bool
    grade: str | None
    reason: NotRequired[str]
    median_m2: NotRequired[int | None]
    mean_m2: NotRequired[int | None]
    q1_m2: NotRequired[int | None]
    q3_m2: NotRequired[int | None]
    quartiles_reason: NotRequired[str]
    median_surface: NotRequired[float | None]
    mean_surface: NotRequired[float | None]
    pieces: NotRequired[list[Pieces]]


class PlaceDoc(TypedDict):
    metadata: Metadata
    current_stats: dict[str, Figures]
    volumes: dict[str, dict[str, int]]
    series: dict[str, dict[str, dict[str, list]]]
    evolution: dict[str, dict[str, dict[str, Any]]]
    seasonality: dict[str, list[int]]
    transactions_recent: NotRequired[list[dict[str, Any]]]
    children: NotRequired[list[dict[str, Any]]]


def has_figures(doc: Mapping[str, Any]) -> bool:
    """Whether a place publishes any price: a headline median, or a median for some year. A page
    without one is a short page that says why (noindex, out of the sitemap)."""
    if any(s["published"] for s in doc["current_stats"].values()):
        return True
    return any(m is not None for s in doc["series"].values() for m in s["annee"]["median_m2"])
