"""The statistics method and its settings: part of every published file's inputs.

The default follows Etalab's "Statistiques DVF" (explore.data.gouv.fr) so our figures can be
compared with theirs: exact duplicate rows removed; Vente, VEFA and Adjudication only;
dependencies and land rows removed before counting goods; single-good mutations only; price
per m2 = valeur fonciere / surface reelle bati; missing, infinite and >= 100,000 EUR/m2 dropped;
medians as the headline. `min_value` (Cerema's floor, e.g. 5000) is a stricter guard, off by
default. Every setting can be given on the command line (`doit min_value=5000`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from rules.errors import ConfigError
from rules.settings import Getter, bounds, read_vars

METHOD_VERSION = "etalab-statistiques-dvf-2023.05"


@dataclass(frozen=True)
class Method:
    """Filters, publication thresholds and the headline window."""

    max_price_m2: int = field(default=100_000, metadata=bounds(1))  # Etalab's only cap (prix_m2 < 100000)
    min_value: int = field(default=0, metadata=bounds(0))  # Cerema suggests 5000; 0 keeps Etalab's method
    window_years: int = field(default=5, metadata=bounds(1, 30))  # headline: the last N calendar years
    grade_high: int = field(default=100, metadata=bounds(1))  # sales for "élevée"
    grade_good: int = field(default=30, metadata=bounds(1))  # sales for "bonne"
    grade_min: int = field(default=15, metadata=bounds(1))  # sales for "indicative"; fewer: not published
    quartiles_min: int = field(default=30, metadata=bounds(1))  # sales needed to publish quartiles
    recent_sales: int = field(default=20, metadata=bounds(0, 200))

    @classmethod
    def from_vars(cls, get: Getter) -> Method:
        method = cls(**read_vars(cls, get))
        if not 0 < method.grade_min <= method.grade_good <= method.grade_high:
            raise ConfigError("grades must satisfy 0 < grade_min <= grade_good <= grade_high")
        return method

    def as_dict(self) -> dict[str, object]:
        return {"version": METHOD_VERSION, **asdict(self)}

    def grade(self, n: int) -> str | None:
        """Reliability grade of a figure computed from `n` sales; None means not published."""
        if n >= self.grade_high:
            return "elevee"
        if n >= self.grade_good:
            return "bonne"
        if n >= self.grade_min:
            return "indicative"
        return None
