"""Statistics and per-place JSON: hand-checked figures, pooled cities, and change detection."""

from __future__ import annotations

import os
import re
from pathlib import Path

import jsonschema
import orjson
import pytest
from conftest import PARIS_ROWS, RAW_2020, RAW_2021, query, raw_file, run_doit

from rules import placedoc, places, stats, store
from rules.method import Method
from rules.paths import Paths
from rules.settings import Settings

# Publish every figure whatever the sample size, so the tiny real samples can be checked by hand.
EVERYTHING = Method(grade_min=1, grade_good=1, grade_high=1, quartiles_min=1)
QUIET = {"log": lambda _: None}


# The samples are in the Ain (01); Paris (75) for the city test; Mayotte (976) has no DVF.
# A scoped site keeps the tests fast.
SCOPED = Settings(departements="01,75,976")


def _build(paths: Paths, files: list[Path], method: Method = EVERYTHING) -> dict:
    store.import_files(paths, files, SCOPED, **QUIET)
    return stats.run(paths, method, SCOPED, **QUIET)


def _doc(paths: Paths, level: str, code: str) -> dict:
    return orjson.loads(places.json_path(paths, level, code).read_bytes())


def test_hand_checked_figures_on_the_real_sample(paths: Paths) -> None:
    _build(paths, [RAW_2020, RAW_2021])
    flats = _doc(paths, "commune", "01053")["current_stats"]["appartement"]
    # Bourg-en-Bresse flats, one per sale (a dependency or land row alongside does not count):
    # 105000/76=1381.58 125000/98=1275.51 165000/67=2462.69 42000/33=1272.73 54800/32=1712.50
    # 67000/38=1763.16 70000/45=1555.56 96000/74=1297.30 97000/92=1054.35 99000/91=1087.91.
    # The 299,000 EUR sale of 3 flats + a shop (2020-01-20) is multi-good: excluded (else n = 13).
    # Sorted, the middle pair is 1297.30 and 1381.58: median 1339.44 -> 1339; mean 14863.29/10 -> 1486.
    assert (flats["n"], flats["median_m2"], flats["mean_m2"]) == (10, 1339, 1486)
    houses = _doc(paths, "commune", "01053")["current_stats"]["maison"]
    # 125000/95=1315.79, 150000/112=1339.29, 180300/75=2404.00 -> median 1339 (the 3 dependencies
    # of the 150,000 EUR sale, exact duplicate rows, do not make it multi-good).
    assert (houses["n"], houses["median_m2"]) == (3, 1339)
    montracol = _doc(paths, "commune", "01264")["current_stats"]["maison"]
    # MONTRACOL, 179,210 EUR: one 90 m2 house repeated on 3 culture lines (AG, BS, S) is one sale:
    # 179210 / 90 = 1991.22 -> 1991.
    assert (montracol["n"], montracol["median_m2"]) == (1, 1991)


def test_a_duplicated_row_is_counted_once(tmp_path: Path, paths: Paths) -> None:
    lines = RAW_2021.read_text("utf-8").splitlines()[1:]
    buellas = lines[3]  # 04/01/2021 Vente 204332,00 BUELLAS (01065) Maison 88 m2
    assert "|204332,00|" in buellas and "|65|" in buellas
    # An exact duplicate stands next to its twin in DGFiP files (same mutation, same row twice).
    _build(paths, [raw_file(tmp_path / "v.txt", [*lines[:4], buellas, *lines[4:]])])
    house = _doc(paths, "commune", "01065")["current_stats"]["maison"]
    assert (house["n"], house["median_m2"]) == (1, 2322)  # 204332 / 88 = 2321.95 -> 2322


# PARIS_ROWS: 3 flats in the 1st arrondissement at 10,000 EUR/m2, 2 in the 2nd at 8,000 EUR/m2.
def test_paris_is_computed_from_the_pooled_rows_of_its_arrondissements(tmp_path: Path, paths: Paths) -> None:
    _build(paths, [raw_file(tmp_path / "paris.txt", PARIS_ROWS)])
    first = _doc(paths, "commune", "75101")
    assert first["current_stats"]["appartement"]["median_m2"] == 10000
    assert first["metadata"]["parent"] == {"code": "75056", "nom": "Paris", "liaison": 0}
    assert _doc(paths, "commune", "75102")["current_stats"]["appartement"]["median_m2"] == 8000
    paris = _doc(paths, "commune", "75056")
    # Pooled: 8000 8000 10000 10000 10000 -> median 10000 (the mean of the two medians would be 9000).
    assert (
        paris["current_stats"]["appartement"]["n"],
        paris["current_stats"]["appartement"]["median_m2"],
    ) == (
        5,
        10000,
    )
    assert [a["code"] for a in paris["metadata"]["arrondissements"]][:2] == ["75101", "75102"]
    assert len(paris["transactions_recent"]) == 5
    assert _doc(paths, "departement", "75")["current_stats"]["appartement"]["n"] == 5
    assert _doc(paths, "region", "11")["current_stats"]["appartement"]["n"] == 5


def test_an_unknown_commune_is_reported_not_published(tmp_path: Path, paths: Paths) -> None:
    lines = RAW_2021.read_text("utf-8").splitlines()[1:]
    lines[3] = lines[3].replace("|01|65|", "|01|999|")
    changes = _build(paths, [raw_file(tmp_path / "v.txt", lines)])
    assert changes["unknown_communes"] == {"01999": 1}
    assert not places.json_path(paths, "commune", "01999").exists()
    assert _doc(paths, "commune", "01065")["current_stats"]["maison"]["n"] == 0


def test_small_samples_are_not_published_and_say_why(paths: Paths) -> None:
    _build(paths, [RAW_2020, RAW_2021], Method())
    flats = _doc(paths, "commune", "01053")["current_stats"]["appartement"]
    assert flats["published"] is False and "median_m2" not in flats
    assert flats["reason"].startswith("10\u00a0ventes sur la période, moins que les 15")
    ain = _doc(paths, "departement", "01")["current_stats"]
    # 16 flats -> indicative (15-29); 39 houses -> good (30-99), with quartiles from 30 sales.
    assert (ain["appartement"]["grade"], ain["maison"]["grade"]) == ("indicative", "bonne")
    assert "q1_m2" not in ain["appartement"] and "q1_m2" in ain["maison"]
    assert _doc(paths, "commune", "01053")["metadata"]["dvf_covered"] is True
    assert _doc(paths, "commune", "97611")["metadata"]["dvf_covered"] is False  # Mamoudzou, Mayotte


def _snapshot(site: Path) -> dict[str, tuple[bytes, int]]:
    return {
        p.relative_to(site).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in (site / "data").rglob("*.json")
    }


def test_changing_one_row_changes_that_commune_and_its_parents_only(tmp_path: Path, paths: Paths) -> None:
    lines = RAW_2021.read_text("utf-8").splitlines()[1:]
    _build(paths, [RAW_2020, raw_file(tmp_path / "v.txt", lines)], Method())
    before = _snapshot(paths.site)
    lines[3] = lines[3].replace("204332,00", "214332,00")  # BUELLAS (01065), Ain (01), AURA (84)
    store.import_files(paths, [RAW_2020, raw_file(tmp_path / "v.txt", lines)], SCOPED, **QUIET)
    said: list[str] = []
    changes = stats.run(paths, Method(), SCOPED, log=said.append)
    # Only the commune's year was deduplicated again: its rows are the part that changed.
    assert "4 recomputed (rows changed in 2021 (1 commune))" in said[0], said
    after = _snapshot(paths.site)
    assert before.keys() == after.keys()
    changed = {k for k in after if after[k] != before[k]}
    assert changed == {
        "data/villes/01065.json",
        "data/departements/01.json",
        "data/regions/84.json",
        "data/france.json",
    }
    assert all(after[k][0] != before[k][0] for k in changed)  # the bytes moved, not just the mtime
    assert changes["changed"] == {
        "commune": ["01065"],
        "departement": ["01"],
        "region": ["84"],
        "france": ["FR"],
    }
    assert changes["counts"]["written"] == 4


def test_two_runs_on_the_same_data_give_byte_identical_files(tmp_path: Path) -> None:
    one, two = Paths.of(tmp_path / "b1", tmp_path / "s1"), Paths.of(tmp_path / "b2", tmp_path / "s2")
    _build(one, [RAW_2020, RAW_2021])
    _build(two, [RAW_2021, RAW_2020])
    a, b = _snapshot(one.site), _snapshot(two.site)
    assert {k: v[0] for k, v in a.items()} == {k: v[0] for k, v in b.items()}
    again = stats.run(one, EVERYTHING, SCOPED, **QUIET)
    assert again["counts"]["written"] == 0
    assert _snapshot(one.site) == a  # bytes and mtimes


def test_stats_cache_is_filled_by_the_same_pass(paths: Paths) -> None:
    _build(paths, [RAW_2020, RAW_2021])
    rows = dict(
        (s, v)
        for s, v in query(
            paths.db,
            "select stat_type, value from stats_cache where place = 'commune:01053' and period = '2017-2021'",
        )
    )
    assert rows["appartement.n"] == 10 and rows["appartement.median_m2"] == 1339
    assert query(
        paths.db,
        "select value from stats_cache where place = 'france:FR' and stat_type = 'maison.n' "
        "and period = '2020'",
    ) == [(30.0,)]


@pytest.mark.parametrize("key", [("commune", "01053"), ("departement", "01"), ("france", "FR")])
def test_files_hold_no_build_time_and_state_their_period(paths: Paths, key: tuple[str, str]) -> None:
    _build(paths, [RAW_2020, RAW_2021])
    text = places.json_path(paths, *key).read_text()
    doc = orjson.loads(text)
    assert doc["metadata"]["period"]["first_sale"] >= "2020-01-01"
    assert doc["metadata"]["period"]["last_sale"] <= "2021-01-18"
    assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:|\d\d:\d\d:\d\d", text), "no timestamp inside"
    assert not any(s in text for s in ("generated", "build_time", "release"))


def test_doit_reruns_stats_only_when_the_data_or_method_changes(paths: Paths) -> None:
    run_doit(paths, "departements=01")
    assert run_doit(paths, "departements=01").stdout == ""
    proc = run_doit(paths, "-v", "2", "departements=01", "min_value=5000")
    assert ".  stats" in proc.stdout and ".  load" not in proc.stdout
    assert (
        orjson.loads(places.json_path(paths, "france", "FR").read_bytes())["metadata"]["method"]["min_value"]
        == 5000
    )
    assert os.path.exists(paths.changes)


def test_every_place_file_matches_the_published_schema(built: Paths) -> None:
    """The per-place JSON is declared once (rules/schema/place.schema.json, published as
    /data/schema.json): every file of a build validates, communes, arrondissements, a city, a
    place DVF lacks, departments, regions and France."""
    schema = orjson.loads((built.site / "data" / "schema.json").read_bytes())
    assert schema["$id"] == "https://immostats.example/data/schema.json"
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    files = [
        p
        for p in (built.site / "data").rglob("*.json")
        if p.name not in ("recherche.json", "schema.json", "resume.json")
    ]
    levels = set()
    for path in files:
        doc = orjson.loads(path.read_bytes())
        errors = [f"{e.json_path}: {e.message}" for e in validator.iter_errors(doc)]
        assert not errors, f"{path}: {errors[:3]}"
        levels.add(doc["metadata"]["level"])
    assert levels == {"commune", "arrondissement", "departement", "region", "france"}


def test_the_typeddicts_say_what_the_schema_says() -> None:
    schema = orjson.loads(placedoc.SCHEMA.read_bytes())
    pairs = [
        (placedoc.PlaceDoc, schema),
        (placedoc.Metadata, schema["$defs"]["metadata"]),
        (placedoc.Figures, schema["$defs"]["figures"]),
        (placedoc.Ref, schema["$defs"]["ref"]),
        (placedoc.Voisine, schema["$defs"]["voisine"]),
    ]
    for typed, part in pairs:
        assert set(typed.__annotations__) == set(part["properties"]), typed.__name__
        assert typed.__required_keys__ == set(part["required"]), typed.__name__


# Communes adjacent to each (sharing a border), read off IGN's commune polygons (ADMIN EXPRESS
# 2025, ../shared/geo/communes-par-departement) and kept to the test build's departments.
ADJACENT = {
    "01053": {"Jasseron", "Montagnat", "Péronnas", "Saint-Denis-lès-Bourg", "Saint-Just", "Viriat"},
    "01283": {"Apremont", "Arbent", "Bellignat", "Charix", "Dortan", "Échallon", "Géovreisset", "Samognat"},
    "01004": {
        "Ambronay",
        "Bettant",
        "Château-Gaillard",
        "Douvres",
        "Saint-Denis-en-Bugey",
        "Saint-Rambert-en-Bugey",
        "Torcieu",
    },
    "64445": {
        "Billère",
        "Bizanos",
        "Buros",
        "Gelos",
        "Idron",
        "Jurançon",
        "Lons",
        "Mazères-Lezons",
        "Montardon",
        "Morlaàs",
    },
    "75115": {
        "Paris 6e arrondissement",
        "Paris 7e arrondissement",
        "Paris 14e arrondissement",
        "Paris 16e arrondissement",
    },
}


def test_neighbours_are_the_nearest_communes_by_distance(built: Paths) -> None:
    """Bourg-en-Bresse, Oyonnax, Ambérieu-en-Bugey, Pau and Paris 15e: the nearest three are
    adjacent communes, and so are at least six of the eight shown (a commune's centre can be
    nearer than a neighbour's across a large commune), each with its distance, nearest first."""
    for code, adjacent in ADJACENT.items():
        shown = orjson.loads((built.site / "data" / "villes" / f"{code}.json").read_bytes())["metadata"][
            "voisines"
        ]
        names, kms = [v["nom"] for v in shown], [v["km"] for v in shown]
        assert kms == sorted(kms) and 0 < kms[0] < 6, (code, shown)
        assert set(names[:3]) <= adjacent, (code, names)
        assert len(set(names) & adjacent) >= min(6, len(adjacent)), (code, names)
    hendaye = orjson.loads((built.site / "data" / "villes" / "64260.json").read_bytes())["metadata"][
        "voisines"
    ]
    assert {v["nom"] for v in hendaye[:2]} == {"Urrugne", "Biriatou"}  # its two French neighbours
    paris = orjson.loads((built.site / "data" / "villes" / "75056.json").read_bytes())["metadata"]
    assert paris["voisines"] == []  # the city is not its arrondissements' neighbour, nor they its
    page = (built.site / "ville" / "01053" / "index.html").read_text("utf-8")
    assert '<a href="/ville/01289/">Péronnas</a> <small>4,3\u00a0km</small>' in page


def test_the_places_cache_is_used_only_when_it_is_current(tmp_path: Path) -> None:
    """build/places.json: read back when its key matches (the scope, and the size and mtime of the
    referential and of the code that reads it), recomputed when it is missing, corrupt or of
    another key."""
    from rules import places as pl

    cache = tmp_path / "places.json"
    scope = frozenset({"01", "75"})
    fresh = pl._from_referential(scope)
    assert pl.remembered(scope, cache) == fresh and cache.exists()  # missing: computed and saved
    pl._KNOWN.clear()
    assert pl.remembered(scope, cache) == fresh  # read back
    for bad in (b"{not json", b'{"key": 1}', b'{"key": [], "places": 3}'):
        cache.write_bytes(bad)
        pl._KNOWN.clear()
        assert pl.remembered(scope, cache) == fresh
    stored = orjson.loads(cache.read_bytes())
    stored["places"] = stored["places"][:1]  # a cache of another scope or referential: its key differs
    stored["key"][0] = ["01"]
    cache.write_bytes(orjson.dumps(stored))
    pl._KNOWN.clear()
    assert pl.remembered(scope, cache) == fresh
    pl._KNOWN.clear()
