"""The quality gate's rules (the weekly runs that it holds back are in test_runner.py)."""

from __future__ import annotations

from rules import gate

FLAT = {"published": True, "median_m2": 2000, "mean_m2": 2100, "median_surface": 46.0, "mean_surface": 51.2}
HOUSE = {"published": True, "median_m2": 1800, "mean_m2": 1900, "median_surface": 95.0, "mean_surface": 105.2}


def test_gate_rules() -> None:
    old = {
        "rows_by_year": {"2020": 1000, "2021": 1000},
        "rows_by_year_dep": {"2020:01": 1000, "2021:01": 1000},
        "funnel": {
            y: {
                "rows": 1000,
                "deduped": 950,
                "natures_kept": 900,
                "single_good": 500,
                "priced": 400,
                "plausible": 400,
            }
            for y in ("2020", "2021")
        },
        "unknown_rows": 0,
        "figures": {
            "france:FR": {"appartement": FLAT, "maison": HOUSE},
            "departement:01": {"appartement": FLAT, "maison": HOUSE},
        },
    }
    assert gate.checks(old, old, gate.Limits()) == []
    assert gate.checks(old, None, gate.Limits()) == []  # first publish: nothing to compare with
    collapsed = {
        **old,
        "rows_by_year": {"2020": 1000, "2021": 100},
        "rows_by_year_dep": {"2020:01": 1000, "2021:01": 100},
    }
    failed = gate.checks(collapsed, old, gate.Limits())
    assert failed == ["2021: 1,000 -> 100 rows (-90%)", "2021, département 01: 1,000 -> 100 rows"]
    # A release where far fewer rows survive the single-good filter (lots split differently, say):
    funnel = {y: dict(v) for y, v in old["funnel"].items()}
    funnel["2021"].update(single_good=300, priced=250, plausible=250)
    assert gate.checks({**old, "funnel": funnel}, old, gate.Limits()) == [
        "2021: 50 % of rows were single-flat or single-house sales, now 30 %",
        "2021: 40 % of rows had a price per m2 under the cap, now 25 %",
        "2021: 40 % of rows became published sales (within the plausibility bounds), now 25 %",
    ]
    # A profile published before the plausibility step: the steps both know are compared.
    older = {
        **old,
        "funnel": {y: {k: v for k, v in f.items() if k != "plausible"} for y, f in old["funnel"].items()},
    }
    assert gate.checks(old, older, gate.Limits()) == []
    jumped = {
        **old,
        "figures": {**old["figures"], "departement:01": {"appartement": {**FLAT, "median_m2": 3500}}},
    }
    assert gate.checks(jumped, old, gate.Limits()) == [
        "département 01, appartement: median 2,000 -> 3,500",
        "département 01, maison: published online, not in this build",
    ]
    # One row dated 2099 moved the window: every figure became "not published". Blocked.
    blank = {
        k: {
            "published": False,
            "median_m2": None,
            "mean_m2": None,
            "median_surface": None,
            "mean_surface": None,
        }
        for k in ("appartement", "maison")
    }
    blanked = {**old, "figures": {"france:FR": blank, "departement:01": blank}}
    assert gate.checks(blanked, old, gate.Limits()) == [
        "département 01, appartement: published online, not in this build",
        "département 01, maison: published online, not in this build",
        "France, appartement: published online, not in this build",
        "France, maison: published online, not in this build",
    ]
    # One house of 1e9 m2: the mean surface jumps, the median does not.
    huge = {
        **old,
        "figures": {
            **old["figures"],
            "departement:01": {"appartement": FLAT, "maison": {**HOUSE, "mean_surface": 25641134.0}},
        },
    }
    assert gate.checks(huge, old, gate.Limits()) == [
        "département 01, maison: mean surface 105.2 -> 25,641,134.0"
    ]
    unknown = {**old, "unknown_rows": 50}
    assert gate.checks(unknown, None, gate.Limits()) == ["50 rows (2.5%) have an unknown commune code"]
    withdrawn = {**old, "rows_by_year": {"2021": 1000}, "rows_by_year_dep": {"2021:01": 1000}}
    assert gate.checks(withdrawn, old, gate.Limits()) == []  # a year no longer published is kept, not lost
