"""The quality gate's rules (the weekly runs that it holds back are in test_runner.py)."""

from __future__ import annotations

from rules import gate


def test_gate_rules() -> None:
    old = {
        "rows_by_year": {"2020": 1000, "2021": 1000},
        "rows_by_year_dep": {"2020:01": 1000, "2021:01": 1000},
        "funnel": {
            y: {"rows": 1000, "deduped": 950, "natures_kept": 900, "single_good": 500, "priced": 400}
            for y in ("2020", "2021")
        },
        "unknown_rows": 0,
        "medians": {"01": {"appartement": 2000, "maison": 1800}},
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
    funnel["2021"].update(single_good=300, priced=250)
    assert gate.checks({**old, "funnel": funnel}, old, gate.Limits()) == [
        "2021: 50 % of rows were single-flat or single-house sales, now 30 %",
        "2021: 40 % of rows became published sales, now 25 %",
    ]
    jumped = {**old, "medians": {"01": {"appartement": 3500, "maison": 1800}}}
    assert gate.checks(jumped, old, gate.Limits()) == [
        "département 01, appartement: median 2,000 -> 3,500 EUR/m2"
    ]
    unknown = {**old, "unknown_rows": 50}
    assert gate.checks(unknown, None, gate.Limits()) == ["50 rows (2.5%) have an unknown commune code"]
    withdrawn = {**old, "rows_by_year": {"2021": 1000}, "rows_by_year_dep": {"2021:01": 1000}}
    assert gate.checks(withdrawn, old, gate.Limits()) == []  # a year no longer published is kept, not lost
