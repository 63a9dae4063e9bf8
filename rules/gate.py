"""The quality gate: compare the new build with the last published one before publishing.

A DVF release republishes every year, so a year's rows should not collapse, the share of rows
that end up as published sales should not swing, unknown commune codes should stay rare, and
department medians should not jump. A failed check blocks the publish (the previous version
stays online) and becomes the notification's subject. The profile of what was published goes
online with it (`api/profile.json` on the deploy branch), so the comparison survives any cache.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from rules import query
from rules.errors import ImmoStatsError
from rules.files import canonical_json, write_atomic
from rules.paths import DATA_DIRS, FRANCE_DATA, Paths
from rules.settings import setting


class GateError(ImmoStatsError):
    """The new data failed a quality check: not published."""


@dataclass(frozen=True)
class Limits:
    """Command-line settings: year_drop=0.2 dep_drop=0.5 kept_points=10 median_factor=1.5 ..."""

    year_drop: float = setting(0.20, "quality gate: the share of its rows a year may lose", low=0, high=1)
    dep_drop: float = setting(
        0.50, "quality gate: the share a department-year (`dep_min_rows` rows up) may lose", low=0, high=1
    )
    dep_min_rows: int = setting(1000, "quality gate: the department-years `dep_drop` applies to", low=0)
    kept_points: float = setting(
        10.0, "quality gate: points the share of rows left by each filter may move", low=0, high=100
    )
    unknown_share: float = setting(0.01, "quality gate: the share of unknown commune codes", low=0, high=1)
    median_factor: float = setting(1.5, "quality gate: how far (×) a department median may move", low=1)


def profile(paths: Paths) -> dict[str, Any]:
    """What the gate compares, from the store (read-only) and the per-place JSON."""
    con = query.connect(str(paths.db), read_only=True)
    try:
        rows = query.rows(con, "profile_rows")
        (unknown,) = query.one(con, "profile_unknown")
    finally:
        con.close()
    funnel = orjson.loads(paths.changes.read_bytes())["funnel"]
    by_year: dict[str, int] = {}
    for year, _, n in rows:
        by_year[year] = by_year.get(year, 0) + n
    return {
        "rows_by_year": by_year,
        "rows_by_year_dep": {f"{y}:{d}": n for y, d, n in rows},
        "funnel": funnel,
        "unknown_rows": unknown,
        "figures": _figures(paths),
    }


FIGURES = {
    "median_m2": "median",
    "mean_m2": "mean",
    "median_surface": "median surface",
    "mean_surface": "mean surface",
}
AGGREGATES = ("france", "region", "departement")


def _figures(paths: Paths) -> dict[str, dict[str, dict[str, Any]]]:
    """France's, each region's and each department's headline figures, by type: what may not
    vanish or jump between two versions."""
    out = {}
    files = [paths.site_file(FRANCE_DATA)] + [
        p
        for level in ("region", "departement")
        for p in sorted(paths.site_file(DATA_DIRS[level]).glob("*.json"))
    ]
    for path in files:
        if not path.exists():
            continue
        doc = orjson.loads(path.read_bytes())
        meta = doc["metadata"]
        out[f"{meta['level']}:{meta['code']}"] = {
            t: {"published": s["published"], **{k: s.get(k) for k in FIGURES}}
            for t, s in doc["current_stats"].items()
        }
    return out


def checks(new: dict[str, Any], old: dict[str, Any] | None, limits: Limits) -> list[str]:
    """The failed checks, one sentence each (empty: the release may be published)."""
    failed = []
    total = sum(new["rows_by_year"].values())
    if total and new["unknown_rows"] / total > limits.unknown_share:
        failed.append(
            f"{new['unknown_rows']:,} rows ({new['unknown_rows'] / total:.1%}) have an unknown commune code"
        )
    if old is None:
        return failed
    for year, before in sorted(old["rows_by_year"].items()):
        after = new["rows_by_year"].get(year, before)  # a year no longer published is kept: no drop
        if before and (before - after) / before > limits.year_drop:
            failed.append(f"{year}: {before:,} -> {after:,} rows ({(after - before) / before:+.0%})")
    for key, before in sorted(old["rows_by_year_dep"].items()):
        after = new["rows_by_year_dep"].get(key, before)
        if before >= limits.dep_min_rows and (before - after) / before > limits.dep_drop:
            year, dep = key.split(":")
            failed.append(f"{year}, département {dep}: {before:,} -> {after:,} rows")
    for year in sorted(set(old["funnel"]) & set(new["funnel"])):
        for step in (s for s in STEPS if s in old["funnel"][year] and s in new["funnel"][year]):
            was = _share(old["funnel"][year][step], old["funnel"][year]["rows"])
            now = _share(new["funnel"][year][step], new["funnel"][year]["rows"])
            if was is not None and now is not None and abs(now - was) > limits.kept_points:
                failed.append(f"{year}: {was:.0f} % of rows {STEPS[step]}, now {now:.0f} %")
    failed += _figure_checks(new.get("figures", {}), old.get("figures", {}), limits)
    return failed


def _figure_checks(new: dict[str, Any], old: dict[str, Any], limits: Limits) -> list[str]:
    """A figure published online may not vanish (France, a region or a department going blank is
    a broken release, not news), nor move by more than `median_factor`: medians, means, surfaces."""
    failed = []
    for key, types in sorted(old.items()):
        level, code = key.split(":", 1)
        where = (
            "France" if level == "france" else f"{'région' if level == 'region' else 'département'} {code}"
        )
        for typ, was in sorted(types.items()):
            now = new.get(key, {}).get(typ)
            if was["published"] and not (now and now["published"]):
                failed.append(f"{where}, {typ}: published online, not in this build")
                continue
            for field, label in FIGURES.items():
                a, b = was.get(field), (now or {}).get(field)
                if a and b and max(a / b, b / a) > limits.median_factor:
                    failed.append(f"{where}, {typ}: {label} {a:,} -> {b:,}")
    return failed


STEPS = {
    "deduped": "left after removing duplicates",
    "natures_kept": "were sales (Vente, VEFA, Adjudication)",
    "single_good": "were single-flat or single-house sales",
    "priced": "had a price per m2 under the cap",
    "plausible": "became published sales (within the plausibility bounds)",
}


def _share(sales: int, rows: int | None) -> float | None:
    return 100.0 * sales / rows if rows else None


def run(paths: Paths, limits: Limits, old: dict[str, Any] | None) -> None:
    """The `gate` task: compare this build with `old`, the profile of the version online (read
    from the deploy branch, so a runner that lost its cache still has it); write build/gate.json
    and the profile publish puts online with the site; fail with the list of failed checks."""
    new = profile(paths)
    failed = checks(new, old, limits)
    write_atomic(paths.profile, canonical_json(new))
    write_atomic(paths.gate_result, canonical_json({"passed": not failed, "failed": failed}))
    if failed:
        shown = "; ".join(failed[:5]) + (f"; and {len(failed) - 5} more" if len(failed) > 5 else "")
        raise GateError(f"quality gate: not published, the previous version stays online: {shown}")


def result(paths: Paths) -> dict[str, Any] | None:
    return orjson.loads(paths.gate_result.read_bytes()) if paths.gate_result.exists() else None
