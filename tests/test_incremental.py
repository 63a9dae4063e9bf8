"""Incremental statistics give the bytes of a pass from scratch, release after release.

A department's generated DVF files go through random releases, each imported into one build
that keeps its stored figures (and recomputes only what changed) and into a new build from
scratch; every JSON file, the data manifest and the list of pages without figures must be equal.
"""

from __future__ import annotations

import random
import sys
from collections.abc import Callable
from pathlib import Path

import duckdb
import orjson
import pytest

sys.path.insert(0, str(Path(__file__).parent / "benchmark"))

import generate  # noqa: E402
from conftest import RAW_2021, SAME_IMPORTS, import_differences, query, raw_file  # noqa: E402

from rules import places, stats, store  # noqa: E402
from rules.method import Method  # noqa: E402
from rules.paths import SUMMARY, Paths  # noqa: E402
from rules.settings import Settings  # noqa: E402

DEPARTEMENT = "05"  # Hautes-Alpes: 162 communes, about 9,000 rows a year
SETTINGS = Settings(departements=DEPARTEMENT)
METHOD = Method()
QUIET = {"log": lambda _: None}
PRICE, DATE, NATURE, COMMUNE, TYPE = 10, 8, 9, 19, 35  # fields of a raw DGFiP line
ACROSS = "987654,32"  # the price of the sale across two communes: no generated price has cents

Release = Callable[[Path, random.Random], None]


def _lines(path: Path) -> tuple[str, list[list[str]]]:
    header, *rows = path.read_text("utf-8").splitlines()
    return header, [r.split("|") for r in rows]


def _save(path: Path, header: str, rows: list[list[str]]) -> None:
    path.write_text("\n".join([header, *("|".join(r) for r in rows)]) + "\n", "utf-8")


def _edit(src: Path, rng: random.Random, change: Callable[[list[list[str]], random.Random], None]) -> None:
    """Apply `change` to the rows of one year's file chosen at random."""
    path = rng.choice(sorted(src.glob("*.txt")))
    header, rows = _lines(path)
    change(rows, rng)
    _save(path, header, rows)


def changed_prices(src: Path, rng: random.Random) -> None:
    """Corrected prices: a mutation's rows may split into two mutations, or two merge."""

    def change(rows: list[list[str]], rng: random.Random) -> None:
        for r in rng.sample(rows, 40):
            if r[PRICE]:
                r[PRICE] = f"{int(float(r[PRICE].replace(',', '.')) * rng.uniform(0.7, 1.4))},00"

    _edit(src, rng, change)


def added_rows(src: Path, rng: random.Random) -> None:
    """Late-registered sales: copies of rows with another price, anywhere in the file."""

    def change(rows: list[list[str]], rng: random.Random) -> None:
        for _ in range(60):
            new = list(rng.choice(rows))
            new[PRICE] = f"{rng.randint(40_000, 600_000)},00"
            rows.insert(rng.randrange(len(rows)), new)

    _edit(src, rng, change)


def removed_rows(src: Path, rng: random.Random) -> None:
    """Withdrawn rows: a mutation may lose its dependency, or its only good."""

    def change(rows: list[list[str]], rng: random.Random) -> None:
        for i in sorted(rng.sample(range(len(rows)), 50), reverse=True):
            del rows[i]

    _edit(src, rng, change)


def first_half_prices(src: Path, rng: random.Random) -> None:
    """Prices corrected in January-June only: the second half-year keeps its stored rows."""

    def change(rows: list[list[str]], rng: random.Random) -> None:
        for r in rng.sample([r for r in rows if r[DATE][3:5] <= "06" and r[PRICE]], 40):
            r[PRICE] = f"{int(float(r[PRICE].replace(',', '.')) * rng.uniform(0.7, 1.4))},00"

    _edit(src, rng, change)


def reordered(src: Path, rng: random.Random) -> None:
    """A year republished in another line order: the same sales, other bytes; nothing to recompute."""
    _edit(src, rng, lambda rows, _: rows.reverse())


def _present(src: Path) -> set[str]:
    return {r[COMMUNE] for f in src.glob("*.txt") for r in _lines(f)[1]}


def gone_commune(src: Path, rng: random.Random) -> None:
    """A commune loses every sale (its figures go; its department's list still names it)."""
    code = rng.choice(sorted(_present(src)))
    for path in sorted(src.glob("*.txt")):
        header, rows = _lines(path)
        _save(path, header, [r for r in rows if r[COMMUNE] != code])


def new_commune(src: Path, rng: random.Random) -> None:
    """A commune that had no sale gets some."""
    codes = [
        p.code[2:].lstrip("0")
        for (lv, _), p in places.all_places(frozenset({DEPARTEMENT})).items()
        if lv == "commune"
    ]
    code = rng.choice(sorted(set(codes) - _present(src)))

    def change(rows: list[list[str]], rng: random.Random) -> None:
        for _ in range(20):
            new = list(rng.choice(rows))
            new[COMMUNE] = code
            new[PRICE] = f"{rng.randint(40_000, 600_000)},00"
            rows.append(new)

    _edit(src, rng, change)


def sale_across_communes(src: Path, rng: random.Random) -> None:
    """Two homes sold together, one in each of two communes: a mutation across two parts, and no
    single-good sale in either."""

    def change(rows: list[list[str]], rng: random.Random) -> None:
        i = rng.choice(
            [
                i
                for i in range(len(rows) - 1)
                if rows[i][TYPE] in ("1", "2") and rows[i + 1][TYPE] in ("1", "2")
            ]
        )
        other = sorted(_present(src) - {rows[i][COMMUNE]})
        rows[i + 1][COMMUNE] = rng.choice(other)
        for r in rows[i : i + 2]:
            r[DATE], r[NATURE], r[PRICE] = rows[i][DATE], "Vente", ACROSS

    _edit(src, rng, change)


def half_withdrawn(src: Path, rng: random.Random) -> None:
    """The first commune's home of that sale is withdrawn: the second commune's rows are the same,
    but they now make a single-good sale, which its figures must count."""
    for path in sorted(src.glob("*.txt")):
        header, rows = _lines(path)
        if any(r[PRICE] == ACROSS for r in rows):
            first = next(i for i, r in enumerate(rows) if r[PRICE] == ACROSS)
            _save(path, header, rows[:first] + rows[first + 1 :])


def _across(src: Path) -> str:
    """The commune of the remaining home of that sale (see half_withdrawn)."""
    (code,) = {r[COMMUNE] for f in src.glob("*.txt") for r in _lines(f)[1] if r[PRICE] == ACROSS}
    return DEPARTEMENT + code.zfill(3)


def new_year(src: Path, rng: random.Random) -> None:
    """A new year's file (the window moves: a full pass), dated up to November."""
    last = max(sorted(src.glob("*.txt")))
    header, rows = _lines(last)
    year = int(last.stem.split("-")[1])
    kept = [r for r in rows if not r[DATE].startswith(("01/12", "31/12")) and r[DATE][3:5] != "12"]
    for r in kept:
        r[DATE] = r[DATE][:6] + str(year + 1)
    _save(src / f"ValeursFoncieres-{year + 1}.txt", header, kept)


RELEASES: list[tuple[Release, ...]] = [
    (changed_prices,),
    (added_rows, removed_rows),
    (gone_commune, sale_across_communes),
    (new_commune, changed_prices),
    (first_half_prices,),
    (reordered,),
    (half_withdrawn,),
    (new_year,),
]


def _build(paths: Paths, src: Path) -> dict:
    store.import_files(paths, sorted(src.glob("*.txt")), SETTINGS, **QUIET)
    return stats.run(paths, METHOD, SETTINGS, **QUIET)


def _new_rows(paths: Paths, semestre: int) -> int:
    """How many rows of a half-year the last import stored."""
    last = "select max(batch_id) from dvf_rows"
    sql = f"select count(*) from dvf_rows where semestre = ? and batch_id = ({last})"
    return int(query(paths.db, sql, [semestre])[0][0])


def _outputs(paths: Paths) -> dict[str, bytes]:
    """Every file the statistics pass writes, by name, and what build/changes.json says of the
    store (the funnel by year, the unknown communes)."""
    files = {p.relative_to(paths.site).as_posix(): p.read_bytes() for p in paths.site.rglob("*.json")}
    files |= {p.name: p.read_bytes() for p in (paths.data_manifest, paths.unpublished, paths.release)}
    changes = orjson.loads(paths.changes.read_bytes())
    files |= {f"changes.json:{k}": orjson.dumps(changes[k]) for k in ("funnel", "unknown_communes", "sales")}
    return files


def _import_whole(paths: Paths, files: list[Path], monkeypatch: pytest.MonkeyPatch) -> list[store.FileResult]:
    """Import `files` with every file staged whole, whatever digests the store keeps."""
    with monkeypatch.context() as m:
        m.setattr(store, "_digests_known", lambda con: False)
        return store.import_files(paths, files, SETTINGS, **QUIET)


@pytest.mark.parametrize("seed", [14])
def test_incremental_statistics_equal_a_pass_from_scratch(
    tmp_path: Path, seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Release after release: the statistics of the kept build equal a pass from scratch. Its
    imports of a year the store knows by its parts' digests are staged in part (only the lines of
    the parts that may change are typed and compared): the store, its log and what each import
    reports equal those of a store that imported the same files whole."""
    src = tmp_path / "src"
    generate.generate(src, scale=DEPARTEMENT, years=2, seed=seed)
    kept = Paths.of(tmp_path / "kept" / "build", tmp_path / "kept" / "site")
    whole = Paths.of(tmp_path / "whole" / "build", tmp_path / "whole" / "site")
    staged_in_part: list[bool] = []  # by the kept build's imports

    def known(con: duckdb.DuckDBPyConnection) -> bool:
        found = digests_known(con)
        path = con.execute("select path from duckdb_databases() where database_name = current_database()")
        if path.fetchone() in ((str(kept.db),), (str(kept.db_work),)):  # a batch goes into a copy
            staged_in_part.append(found)
        return found

    digests_known = store._digests_known
    monkeypatch.setattr(store, "_digests_known", known)
    first = _build(kept, src)
    _import_whole(whole, sorted(src.glob("*.txt")), monkeypatch)
    assert first["counts"]["recomputed"] == first["counts"]["places"]
    rng = random.Random(seed)
    for step, release in enumerate(RELEASES):
        before = _outputs(kept)
        for change in release:
            change(src, rng)
        imported = store.import_files(kept, sorted(src.glob("*.txt")), SETTINGS, **QUIET)
        expected_import = _import_whole(whole, sorted(src.glob("*.txt")), monkeypatch)
        for r in (*imported, *expected_import):
            r.seconds = 0.0
        assert imported == expected_import, release
        assert import_differences(kept.db, whole.db) == SAME_IMPORTS, release
        changes = stats.run(kept, METHOD, SETTINGS, **QUIET)
        done = [r for r in imported if not r.skipped]
        scratch = Paths.of(tmp_path / f"scratch-{step}" / "build", tmp_path / f"scratch-{step}" / "site")
        _build(scratch, src)
        after, expected = _outputs(kept), _outputs(scratch)
        assert sorted(after) == sorted(expected), release
        different = sorted(name for name in expected if after[name] != expected[name])
        assert different == [], release
        counts = changes["counts"]
        if release == (new_year,):
            assert counts["recomputed"] == counts["places"]  # the window moved
        elif release == (reordered,):
            assert [r.replaced for r in done] == [0] and counts["recomputed"] == 0  # no row changed
        else:
            assert 0 < counts["recomputed"] < counts["places"] / 2, release
        if release in ((changed_prices,), (first_half_prices,)):
            (r,) = done  # 40 prices changed: the rows of their communes' half-years are replaced
            assert r.kept > 0 and r.replaced < r.rows / 2, r
        if release == (first_half_prices,):
            assert _new_rows(kept, semestre=2) == 0  # the second half-year's stored rows stayed
        if release == (half_withdrawn,):  # its rows did not change, its sales did: the import ties them
            assert _across(src) in changes["changed"]["commune"]
        moved = {n for n in after if n.startswith("data/") and n != SUMMARY and before.get(n) != after[n]}
        written = {
            places.json_path(kept, level, code).relative_to(kept.site).as_posix()
            for level, codes in changes["changed"].items()
            for code in codes
        }
        assert written == moved, release
    # the first two years' files and the new year's were imported whole; every import of a known
    # year (a release may change both years' files) was staged in part
    whole_first, in_part, whole_new_year = staged_in_part[:2], staged_in_part[2:-1], staged_in_part[-1]
    assert whole_first == [False, False] and len(in_part) >= len(RELEASES) - 1 and all(in_part)
    assert not whole_new_year


KILL = """
import os, signal, sys
from pathlib import Path
sys.path[:0] = [{root!r}, {tests!r}]
from rules import query, stats
from rules.paths import Paths
from test_incremental import METHOD, SETTINGS
point = {point!r}
stats.BATCH = 5
run, write = query.run, stats._Writer.write
def killing_run(con, name, params=None):
    if name == point:
        os.kill(os.getpid(), signal.SIGKILL)
    return run(con, name, params)
def killing_write(self, docs):
    write(self, docs)
    if point == "documents":  # after the first 5 documents
        os.kill(os.getpid(), signal.SIGKILL)
query.run, stats._Writer.write = killing_run, killing_write
stats.run(Paths.of({build!r}, {site!r}), METHOD, SETTINGS, log=lambda _: None)
"""


@pytest.mark.parametrize("point", ["stats_build", "documents"])
def test_a_killed_pass_is_followed_by_one_that_ends_as_from_scratch(tmp_path: Path, point: str) -> None:
    """SIGKILL after the computation committed (its digest not yet recorded) and halfway through
    the documents: the next pass writes what a pass from scratch writes. (A kill inside the
    computation is a rolled-back transaction; the two points here are the ones the design adds.)"""
    import signal
    import subprocess

    src = tmp_path / "src"
    generate.generate(src, scale=DEPARTEMENT, years=2, seed=3)
    kept = Paths.of(tmp_path / "kept" / "build", tmp_path / "kept" / "site")
    _build(kept, src)
    rng = random.Random(3)
    changed_prices(src, rng)
    added_rows(src, rng)
    store.import_files(kept, sorted(src.glob("*.txt")), SETTINGS, **QUIET)
    script = KILL.format(
        root=str(Path(__file__).parents[1]),
        tests=str(Path(__file__).parent),
        point=point,
        build=str(kept.build),
        site=str(kept.site),
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    _build(kept, src)
    scratch = Paths.of(tmp_path / "scratch" / "build", tmp_path / "scratch" / "site")
    _build(scratch, src)
    after, expected = _outputs(kept), _outputs(scratch)
    assert sorted(after) == sorted(expected)
    assert [name for name in expected if after[name] != expected[name]] == []


def _sale(day: int, price: int, dep: str, commune: str, cp: str, typ: str, surface: int) -> str:
    """A raw DGFiP line: one home sold on `day` January 2021."""
    label = {"1": "Maison", "2": "Appartement"}[typ]
    return (
        f"|||||||000001|{day:02d}/01/2021|Vente|{price},00|{day}||RUE|0001|DE LA GARE|{cp}|"
        f"X|{dep}|{commune}||AB|{day}||||||||||||1|{typ}|{label}||{surface}|3|||"
    )


def _pass_equals_scratch(tmp_path: Path, kept: Paths, files: list[list[Path]], settings: Settings) -> None:
    """A build from scratch of the same imports, one pass at the end, writes what `kept` holds."""
    scratch = Paths.of(tmp_path / "scratch" / "build", tmp_path / "scratch" / "site")
    for batch in files:
        store.import_files(scratch, batch, settings, **QUIET)
    stats.run(scratch, EVERYTHING, settings, **QUIET)
    after, expected = _outputs(kept), _outputs(scratch)
    assert sorted(after) == sorted(expected)
    assert [name for name in expected if after[name] != expected[name]] == []


EVERYTHING = Method(grade_min=1, grade_good=1, grade_high=1, quartiles_min=1)


def test_a_sale_cut_by_a_file_of_one_department_is_recomputed(tmp_path: Path) -> None:
    """A flat in Paris and a house in Bourg-en-Bresse sold together (one mutation across two
    departments), then a file of Ain's rows alone: the house's rows are replaced, the flat's are
    kept and now make a single-good sale. Its rows did not change, its figures did."""
    settings = Settings(departements="01,75")
    first = raw_file(
        tmp_path / "in" / "a.txt",
        [
            _sale(5, 300000, "75", "101", "75001", "2", 30),
            _sale(10, 500000, "75", "101", "75001", "2", 50),  # the sale across departments...
            _sale(10, 500000, "01", "53", "01000", "1", 100),  # ...its other home
            _sale(12, 200000, "01", "53", "01000", "1", 90),
        ],
    )
    ain = raw_file(
        tmp_path / "in" / "b.txt",
        [
            _sale(10, 500000, "01", "53", "01000", "1", 100),
            _sale(12, 200000, "01", "53", "01000", "1", 90),
            _sale(14, 150000, "01", "53", "01000", "1", 80),
        ],
    )
    kept = Paths.of(tmp_path / "kept" / "build", tmp_path / "kept" / "site")
    store.import_files(kept, [first], settings, **QUIET)
    stats.run(kept, EVERYTHING, settings, **QUIET)
    store.import_files(kept, [ain], settings, **QUIET)
    changes = stats.run(kept, EVERYTHING, settings, **QUIET)
    assert "75101" in changes["changed"]["commune"]  # the flat is now a sale of its own
    _pass_equals_scratch(tmp_path, kept, [[first], [ain]], settings)


def test_statistics_left_by_an_older_version_are_not_trusted(tmp_path: Path) -> None:
    """An older version ran after this one (a revert): it rebuilt the stored sales in its own shape
    and wrote its `stats_state`. The next pass of this version starts from scratch, not from them."""
    settings = Settings(departements="01")
    lines = RAW_2021.read_text("utf-8").splitlines()[1:]
    kept = Paths.of(tmp_path / "kept" / "build", tmp_path / "kept" / "site")
    store.import_files(kept, [raw_file(tmp_path / "v1" / "v.txt", lines)], settings, **QUIET)
    stats.run(kept, EVERYTHING, settings, **QUIET)
    with duckdb.connect(str(kept.db)) as con:  # what the older version leaves
        con.execute("create table stats_state (annee integer, signature varchar, key varchar)")
        con.execute("alter table st_sales drop column code_commune")
    lines[3] = lines[3].replace("204332,00", "214332,00")
    changed = raw_file(tmp_path / "v2" / "v.txt", lines)
    store.import_files(kept, [changed], settings, **QUIET)
    said: list[str] = []
    stats.run(kept, EVERYTHING, settings, log=said.append)
    assert "all recomputed (no stored figures)" in said[0], said
    _pass_equals_scratch(tmp_path, kept, [[changed]], settings)
