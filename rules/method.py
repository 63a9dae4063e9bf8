"""The statistics method and its settings: part of every published file's inputs.

The default follows Etalab's "Statistiques DVF" (explore.data.gouv.fr) so our figures can be
compared with theirs: exact duplicate rows removed; Vente, VEFA and Adjudication only;
dependencies and land rows removed before counting goods; single-good mutations only; price
per m2 = valeur fonciere / surface reelle bati; missing, infinite and >= 100,000 EUR/m2 dropped;
medians as the headline. `min_value` (Cerema's floor, e.g. 5000) is a stricter guard, off by
default. Every setting can be given on the command line (`doit min_value=5000`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import cached_property

from rules.errors import ConfigError
from rules.settings import Getter, read_vars, setting

METHOD_VERSION = "etalab-statistiques-dvf-2023.05"
# The rows left after each step, per year (rules/sql/funnel_years.sql's columns, in order).
FUNNEL = ("rows", "deduped", "natures_kept", "single_good", "priced", "plausible")


@dataclass(frozen=True)
class Method:
    """Filters, publication thresholds and the headline window."""

    max_price_m2: int = setting(100_000, "prices per m² from this one up are dropped (Etalab's cap)", low=1)
    min_price_m2: int = setting(100, "plausibility: sales under this price per m² are left out", low=0)
    min_surface: float = setting(9.0, "plausibility: homes smaller than this (m²) are left out", low=0)
    max_surface: float = setting(1000.0, "plausibility: homes larger than this (m²) are left out", low=1)
    min_value: int = setting(0, "sales below this price (€) are dropped; Cerema suggests 5000", low=0)
    window_years: int = setting(5, "the calendar years the headline figures pool", low=1, high=30)
    grade_high: int = setting(100, 'sales for an "élevée" figure', low=1)
    grade_good: int = setting(30, 'sales for a "bonne" figure', low=1)
    grade_min: int = setting(15, 'sales for an "indicative" figure; fewer: not published', low=1)
    quartiles_min: int = setting(30, "sales needed to publish quartiles", low=1)
    recent_sales: int = setting(20, "recent sales listed per commune", low=0, high=200)

    @classmethod
    def from_vars(cls, get: Getter) -> Method:
        m = cls(**read_vars(cls, get))
        if not 0 < m.grade_min <= m.grade_good <= m.grade_high:
            raise ConfigError(
                f"grade_min={m.grade_min}, grade_good={m.grade_good}, grade_high={m.grade_high}: "
                "grades must satisfy 0 < grade_min <= grade_good <= grade_high"
            )
        for low, high in (("min_surface", "max_surface"), ("min_price_m2", "max_price_m2")):
            if getattr(m, low) >= getattr(m, high):  # no sale would be plausible: every figure gone
                raise ConfigError(
                    f"{low}={getattr(m, low):g} and {high}={getattr(m, high):g}: {low} must be below {high}"
                )
        return m

    def as_dict(self) -> dict[str, object]:
        """The method as every place's JSON states it: a copy of what is computed once (each of
        the 35,000 documents asks, and `dataclasses.asdict` was 2 s of a France statistics pass)."""
        return dict(self._as_dict)

    @cached_property
    def _as_dict(self) -> dict[str, object]:
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
