"""The history store: both DVF formats, releases and history, and bad input that loses nothing."""

from __future__ import annotations

import gzip
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import duckdb
import orjson
import pytest
from conftest import (
    CEREMA,
    GEO_2021,
    HENDAYE,
    PARIS_ROWS,
    RAW_2020,
    RAW_2021,
    SAME_IMPORTS,
    import_differences,
    query,
    raw_file,
    run_doit,
    tables,
)

from rules import files, reference, sources, stats, store
from rules import query as rules_query
from rules.doitedge import guarded
from rules.errors import InputError, OutOfMemoryError
from rules.method import Method
from rules.paths import ROOT, Paths
from rules.settings import Settings

# Columns that legitimately differ between the raw and geo-dvf copies of the same sales.
_PROVENANCE = {"batch_id", "source_file", "source_sha256", "source_format", "longitude", "latitude"}


def _import(paths: Paths, *files: Path) -> list[store.FileResult]:
    return store.import_files(paths, list(files), Settings(), log=lambda _: None)


def _rows(db: Path) -> list[tuple]:
    cols = [r[0] for r in query(db, "select column_name from duckdb_columns() where table_name = 'dvf_rows'")]
    keep = [c for c in cols if c not in _PROVENANCE]
    return query(db, f"select {', '.join(keep)} from dvf_rows order by source_line")


def _write_lines(path: Path, lines: list[str], newline: str = "\n") -> Path:
    path.write_bytes(newline.join(lines).encode("utf-8") + newline.encode())
    return path


def _raw_lines() -> list[str]:
    return RAW_2021.read_text("utf-8").splitlines()


def test_raw_and_geo_files_of_the_same_sales_load_to_the_same_rows(tmp_path: Path) -> None:
    raw, geo = Paths.of(tmp_path / "raw", tmp_path / "s"), Paths.of(tmp_path / "geo", tmp_path / "s")
    _import(raw, RAW_2021)
    _import(geo, GEO_2021)
    assert _rows(raw.db) == _rows(geo.db)
    assert len(_rows(raw.db)) == 41
    # Rebuilt raw mutation ids are Etalab's: 19 mutations, 2021-1 .. 2021-19, in file order.
    ids = [r[0] for r in query(raw.db, "select distinct id_mutation from dvf_rows")]
    assert sorted(ids, key=lambda s: int(s.split("-")[1])) == [f"2021-{n}" for n in range(1, 20)]


def test_a_latin1_byte_deep_in_a_large_file_is_one_line_at_its_line(tmp_path: Path, paths: Paths) -> None:
    """UTF-8 is checked by DuckDB as it reads the file (sources.check no longer decodes it: 0.75 s of
    a 500 MB file): the error names the first bad line exactly, past its parallel reader's first
    buffers (50 MB here), and nothing of the file is stored."""
    _import(paths, RAW_2020)
    before = tables(paths.db)
    rows = [PARIS_ROWS[i % len(PARIS_ROWS)] for i in range(400_000)]
    rows[350_000] = rows[350_000].replace("DE RIVOLI", "DE RIVOLI \udce9")  # a lone byte 0xE9
    header = RAW_2021.read_text("utf-8").splitlines()[0]
    source = tmp_path / "valeursfoncieres-2021.txt"
    source.write_bytes(("\n".join([header, *rows]) + "\n").encode("utf-8", "surrogateescape"))
    with pytest.raises(InputError) as e:
        _import(paths, source)
    assert str(e.value) == f"{source}:350002: not UTF-8 text; DVF files are UTF-8 (re-saved as Latin-1?)"
    assert tables(paths.db) == before
    assert query(paths.db, "select status from update_log order by batch_id desc limit 1") == [("failed",)]


def test_a_file_cut_inside_a_character_is_called_truncated(tmp_path: Path) -> None:
    """The one UTF-8 check left to sources.check: the content's last bytes. A file cut inside a
    character is truncated, not Latin-1; one cut after a whole character is not refused there."""
    data = RAW_2021.read_bytes()
    accent = data.index("é".encode())
    for cut, refused in [(accent + 1, True), (accent + 2, False)]:
        path = tmp_path / f"cut-{cut}.txt"
        path.write_bytes(data[:cut])
        if refused:
            with pytest.raises(InputError) as e:
                sources.check(path, tmp_path / "tmp")
            line = data[:cut].count(b"\n") + 1
            assert str(e.value) == f"{path}:{line}: ends in the middle of a UTF-8 character (truncated file?)"
        else:
            assert sources.check(path, tmp_path / "tmp").rows == data[:cut].count(b"\n")


def test_an_infinite_carrez_surface_or_a_geo_row_without_its_mutation_is_one_line(
    tmp_path: Path, paths: Paths
) -> None:
    """Two values DuckDB would have stored quietly (an infinite Carrez surface, a geo-dvf row whose
    mutation id is empty, which failed only at the insert, with no line): refused at their line."""
    raw = _raw_lines()
    assert "|63,57|" in raw[26]
    raw[26] = raw[26].replace("|63,57|", "|1e400|")
    header, *rows = GEO_2021.read_text("utf-8").splitlines()
    rows[2] = "," + rows[2].split(",", 1)[1]
    cases = [
        (_write_lines(tmp_path / "valeursfoncieres-2021.txt", raw), 27, "Surface Carrez du 1er lot '1e400'"),
        (_write_lines(tmp_path / "geo-dvf-2021.csv", [header, *rows]), 4, "id_mutation '' is empty"),
    ]
    for path, line, message in cases:
        with pytest.raises(InputError) as error:
            _import(paths, path)
        assert (error.value.path, error.value.line) == (str(path), line)
        assert error.value.problem.startswith(message), error.value.problem
    assert query(paths.db, "select count(*) from dvf_rows") == [(0,)]


def test_raw_rows_are_normalised(paths: Paths) -> None:
    _import(paths, RAW_2021)
    row = query(
        paths.db,
        """select date_mutation::varchar, valeur_fonciere, code_commune, code_postal, id_parcelle,
                  adresse_nom_voie, code_type_local, surface_reelle_bati, surface_terrain, source_line
           from dvf_rows where source_line = 2""",
    )[0]
    # 05/01/2021|Vente|185000,00|...|CHE|0471|DE VOGELAS|1370|VAL-REVERMONT|01|426|312|ZC|122 ... Maison 97 m²
    assert row == (
        "2021-01-05",
        185000,
        "01426",
        "01370",
        "01426312ZC0122",
        "CHE DE VOGELAS",
        1,
        97.0,
        2410.0,
        2,
    )
    dependance = query(paths.db, "select surface_reelle_bati from dvf_rows where source_line = 3")[0]
    assert dependance == (None,)  # raw '0' stored as NULL, as geo-dvf writes it


def test_zipped_crlf_and_new_header_variant(tmp_path: Path, paths: Paths) -> None:
    lines = _raw_lines()
    lines[0] = lines[0].replace("Code service CH", "Identifiant de document", 1)
    txt = _write_lines(tmp_path / "ValeursFoncieres-2021.txt", lines, newline="\r\n")
    zipped = tmp_path / "valeursfoncieres-2021.txt.zip"
    with zipfile.ZipFile(zipped, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(txt, "ValeursFoncieres-2021.txt")
    txt.unlink()
    plain = Paths.of(tmp_path / "plain", tmp_path / "s")
    _import(paths, zipped)
    _import(plain, RAW_2021)
    assert _rows(paths.db) == _rows(plain.db)
    assert not list((paths.tmp).glob("*.txt")), "decompressed copies are removed"


def test_gzipped_geo_file(tmp_path: Path, paths: Paths) -> None:
    gz = tmp_path / "full.csv.gz"
    gz.write_bytes(gzip.compress(GEO_2021.read_bytes()))
    (result,) = _import(paths, gz)
    assert (result.fmt, result.rows) == ("geo", 41)


def test_cerema_crlf_file_with_every_nature(paths: Paths) -> None:
    (result,) = _import(paths, CEREMA)
    assert result.rows == 2500
    natures = dict(query(paths.db, "select nature_mutation, count(*) from dvf_rows group by 1"))
    assert natures == {
        "Vente": 2091,
        "Vente en l'état futur d'achèvement": 402,
        "Echange": 6,
        "Adjudication": 1,
    }
    assert query(paths.db, "select count(distinct code_type_local) from dvf_rows")[0][0] == 4


def test_importing_the_same_files_again_changes_nothing(paths: Paths) -> None:
    _import(paths, RAW_2020, RAW_2021)
    before = tables(paths.db), query(paths.db, "select * from update_log")
    manifest = paths.store_manifest.read_bytes()
    results = _import(paths, RAW_2020, RAW_2021)
    assert all(r.skipped for r in results)
    assert (tables(paths.db), query(paths.db, "select * from update_log")) == before
    assert paths.store_manifest.read_bytes() == manifest


def test_a_source_file_is_hashed_again_only_when_its_stat_changes(
    tmp_path: Path, paths: Paths, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Five years of raw DVF are 2.5 GB: an import hashes only the files whose stat moved, and an
    edit that puts the old mtime back is still seen (ctime cannot be put back)."""
    source = tmp_path / "ValeursFoncieres-2021.txt"
    shutil.copy(RAW_2021, source)
    hashed: list[Path] = []
    real = files.sha256_file
    monkeypatch.setattr(files, "sha256_file", lambda p: hashed.append(p) or real(p))
    _import(paths, source)
    entry = orjson.loads(paths.source_hashes.read_bytes())[str(source)]
    assert entry[-1] == real(source) and hashed == [source]

    assert all(r.skipped for r in _import(paths, source))  # unchanged: not read again
    assert hashed == [source]

    before = source.stat()
    data = source.read_bytes()
    assert data.count(b"185000,00") == 3  # three lines: a two-line sale and another sale
    source.write_bytes(data.replace(b"185000,00", b"186000,00"))  # same size
    os.utime(source, ns=(before.st_atime_ns, before.st_mtime_ns))
    results = _import(paths, source)
    assert hashed == [source, source] and not results[0].skipped and results[0].added == 3
    assert query(paths.db, "select count(*) from dvf_rows where valeur_fonciere = 186000")[0][0] == 3


def test_a_new_release_replaces_its_years_and_keeps_older_ones(tmp_path: Path, paths: Paths) -> None:
    first = _import(paths, RAW_2020, RAW_2021)
    assert [(r.rows, r.replaced, r.added, r.removed) for r in first] == [(172, 0, 172, 0), (41, 0, 41, 0)]
    lines = _raw_lines()
    # The new release drops the 10 € land sale (line 4), reprices the first house, and adds nothing else.
    new = [lines[0], lines[1].replace("185000,00", "186000,00"), lines[2].replace("185000,00", "186000,00")]
    new += [ln for i, ln in enumerate(lines[3:], start=3) if i != 3]
    release = _write_lines(tmp_path / "valeursfoncieres-2021.txt", new)
    (result,) = _import(paths, release)
    # Replaced: the stored rows of the two communes whose sales changed (the house's two lines, the
    # land sale's one); the other 15 communes keep theirs. In: the two repriced lines; out: their
    # old form and the land sale.
    assert (result.rows, result.replaced, result.kept) == (40, 3, 15)
    assert (result.added, result.removed) == (2, 3)
    assert query(paths.db, "select count(*) from dvf_rows where annee = 2021")[0][0] == 40
    assert query(paths.db, "select count(*) from dvf_rows where annee = 2020")[0][0] == 172
    assert (
        query(paths.db, "select count(*) from dvf_rows where annee = 2021 and valeur_fonciere = 10")[0][0]
        == 0
    )
    assert query(
        paths.db, "select distinct valeur_fonciere from dvf_rows where source_line = 2 and annee = 2021"
    ) == [(186000,)]
    log = query(
        paths.db, "select batch_id, source_file, rows_imported, rows_replaced, status from update_log"
    )
    assert log[-1] == (2, "valeursfoncieres-2021.txt", 40, 3, "success")


def test_a_half_year_file_keeps_the_other_half(tmp_path: Path, paths: Paths) -> None:
    _import(paths, RAW_2021)  # January 2021 only: first half
    lines = _raw_lines()
    second_half = [lines[0]] + [ln.replace("/01/2021|", "/07/2021|") for ln in lines[1:6]]
    (result,) = _import(paths, _write_lines(tmp_path / "valeursfoncieres-2021-s2.txt", second_half))
    assert result.replaced == 0
    assert query(paths.db, "select semestre, count(*) from dvf_rows group by 1 order by 1") == [
        (1, 41),
        (2, 5),
    ]


def test_unknown_commune_codes_are_kept_and_counted(tmp_path: Path, paths: Paths) -> None:
    lines = _raw_lines()
    lines[4] = lines[4].replace("|01|65|", "|01|999|")  # 01999 does not exist
    (result,) = _import(paths, _write_lines(tmp_path / "v.txt", lines))
    assert result.unknown == {"01999": 1}
    assert query(paths.db, "select count(*) from dvf_rows where code_commune = '01999'")[0][0] == 1
    assert query(paths.db, "select rows_unknown_commune from update_log")[0][0] == 1


def test_two_files_for_the_same_period_in_one_batch_are_refused(paths: Paths) -> None:
    with pytest.raises(InputError, match="same sales period"):
        _import(paths, RAW_2021, GEO_2021)
    assert query(paths.db, "select count(*) from dvf_rows")[0][0] == 0


def _zip_truncated(tmp: Path) -> Path:
    z = tmp / "valeursfoncieres-2021.txt.zip"
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(RAW_2021, RAW_2021.name)
    z.write_bytes(z.read_bytes()[:1500])
    return z


def _gz_truncated(tmp: Path) -> Path:
    g = tmp / "full.csv.gz"
    g.write_bytes(gzip.compress(GEO_2021.read_bytes())[:1500])
    return g


def _html(tmp: Path, name: str = "valeursfoncieres-2021.txt.zip") -> Path:
    p = tmp / name
    p.write_text("<!DOCTYPE html>\n<html><body>502 Bad Gateway</body></html>\n")
    return p


def _edit(tmp: Path, line: int, old: str, new: str) -> Path:
    lines = _raw_lines()
    assert old in lines[line - 1]
    lines[line - 1] = lines[line - 1].replace(old, new, 1)
    return _write_lines(tmp / "valeursfoncieres-2021.txt", lines)


def _latin1(tmp: Path) -> Path:
    p = tmp / "valeursfoncieres-2021.txt"
    p.write_bytes(RAW_2021.read_text("utf-8").encode("latin-1"))
    return p


def _truncated_text(tmp: Path) -> Path:
    p = tmp / "valeursfoncieres-2021.txt"
    p.write_bytes(RAW_2021.read_bytes()[:3000])
    return p


def _cr_only(tmp: Path) -> Path:
    p = tmp / "valeursfoncieres-2021.txt"
    p.write_bytes(RAW_2021.read_bytes().replace(b"\n", b"\r"))
    return p


def _zeros_gz(tmp: Path) -> Path:
    """50 MB of zeros in 50 kB: refused from its first block, never decompressed whole."""
    p = tmp / "full.csv.gz"
    p.write_bytes(gzip.compress(bytes(50_000_000), compresslevel=9))
    return p


def _empty(tmp: Path) -> Path:
    p = tmp / "valeursfoncieres-2021.txt"
    p.write_bytes(b"")
    return p


BAD_INPUTS = {
    "truncated zip": (_zip_truncated, None, "not a readable zip archive"),
    "truncated gzip": (_gz_truncated, None, "not a readable gzip file"),
    "html page saved as zip": (_html, 1, "an HTML page, not DVF data"),
    "html page as txt": (lambda t: _html(t, "valeursfoncieres-2021.txt"), 1, "an HTML page"),
    "unknown header": (lambda t: _edit(t, 1, "Valeur fonciere", "Prix"), 1, "unknown header"),
    "non-numeric price": (
        lambda t: _edit(t, 5, "204332,00", "204 332 EUR"),
        5,
        "Valeur fonciere '204 332 EUR' is not a number",
    ),
    "impossible date": (
        lambda t: _edit(t, 6, "06/01/2021", "31/02/2021"),
        6,
        "Date mutation '31/02/2021' is not a valid date",
    ),
    "negative surface": (
        lambda t: _edit(t, 2, "|97|5|", "|-97|5|"),
        2,
        "Surface reelle bati '-97' is not a number",
    ),
    "latin-1 bytes": (_latin1, 3, "not UTF-8"),
    "truncated line": (_truncated_text, 20, "expected 43 fields, found 22"),
    "empty file": (_empty, None, "empty file"),
    "a sale dated 2099": (
        lambda t: _edit(t, 6, "06/01/2021", "15/06/2099"),
        6,
        "Date mutation '15/06/2099' is after ",
    ),
    "a price of 1e20": (
        lambda t: _edit(t, 5, "204332,00", "1e20"),
        5,
        "Valeur fonciere '1e20' is not a plausible price",
    ),
    "a price of 1e400": (
        lambda t: _edit(t, 5, "204332,00", "1e400"),
        5,
        "Valeur fonciere '1e400' is not a plausible price",
    ),
    "a 2 MB line": (
        lambda t: _edit(t, 3, "|Dépendance|", "|Dépendance" + "x" * 2_000_000 + "|"),
        3,
        "a line longer than 1,000 kB",
    ),
    "CR-only line endings": (_cr_only, 1, "lines end with CR only"),
    "a gzip bomb": (_zeros_gz, 1, "unknown header"),
}


def _staged_in_part(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Spy on the import's choice of staging a raw file in part: one entry per raw file read."""
    seen: list[bool] = []
    known = store._digests_known
    monkeypatch.setattr(store, "_digests_known", lambda con: seen.append(known(con)) or seen[-1])
    return seen


def _release_of_2021(change: Callable[[list[str]], None]) -> list[str]:
    """The 2021 sample, republished with `change` applied to its lines (header first)."""
    lines = _raw_lines()
    change(lines)
    return lines


RELEASE_BAD_LINES: dict[str, tuple[Callable[[list[str]], None], int, str]] = {
    "a corrected price that is not a number": (
        lambda ls: ls.__setitem__(4, ls[4].replace("204332,00", "204 332 EUR")),
        5,
        "Valeur fonciere '204 332 EUR' is not a number",
    ),
    "an impossible date": (
        lambda ls: ls.__setitem__(5, ls[5].replace("06/01/2021", "31/02/2021")),
        6,
        "Date mutation '31/02/2021' is not a valid date",
    ),
    "a line of 22 fields": (
        lambda ls: ls.__setitem__(19, "|".join(ls[19].split("|")[:22])),
        20,
        "expected 43 fields, found 22 (truncated or damaged file?)",
    ),
    "a line of 10 fields": (
        lambda ls: ls.__setitem__(19, "|".join(ls[19].split("|")[:10])),
        20,
        "expected 43 fields, found 10 (truncated or damaged file?)",
    ),
    "a blank line": (lambda ls: ls.insert(6, ""), 7, "an empty line, where 43 fields are expected"),
    "a U+0001 in a street name": (
        lambda ls: ls.__setitem__(8, ls[8].replace("|GEORGE SAND|", "|GEORGE\x01SAND|")),
        9,
        "a control character (U+0001) where DVF has none",
    ),
}


@pytest.mark.parametrize("case", sorted(RELEASE_BAD_LINES))
def test_a_release_staged_in_part_refuses_its_first_bad_line_as_a_whole_import_does(
    tmp_path: Path, paths: Paths, monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    """The store knows 2021 by its parts' digests: a republished 2021 is staged in part, and a bad
    line in it (a part that changed) is refused with the line and words of a whole import of the
    same file; nothing is stored, and the failure is recorded."""
    change, line, message = RELEASE_BAD_LINES[case]
    _import(paths, RAW_2021)
    before = tables(paths.db)
    bad = _write_lines(tmp_path / "valeursfoncieres-2021.txt", _release_of_2021(change))
    seen = _staged_in_part(monkeypatch)
    with pytest.raises(InputError) as e:
        _import(paths, bad)
    assert str(e.value) == f"{bad}:{line}: {message}"
    assert seen == ([] if "U+0001" in case else [True])  # a line holding U+0001 fails the read itself
    assert tables(paths.db) == before
    assert query(paths.db, "select status from update_log order by batch_id desc limit 1") == [("failed",)]
    monkeypatch.setattr(store, "_digests_known", lambda con: False)
    with pytest.raises(InputError) as whole:
        _import(paths, bad)
    assert str(whole.value) == str(e.value)


def test_digests_made_otherwise_are_not_trusted(
    tmp_path: Path, paths: Paths, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A geo-dvf file's import drops the digests of the periods it covers (its rows are not a raw
    file's lines), and digests made by another import method (its SQL) do not count: the next raw
    file of those periods is staged whole."""
    seen = _staged_in_part(monkeypatch)
    _import(paths, RAW_2021)
    assert query(paths.db, "select count(*) from part_digests")[0][0] > 0
    _import(paths, GEO_2021)
    assert query(paths.db, "select count(*) from part_digests") == [(0,)]
    price = _release_of_2021(lambda ls: ls.__setitem__(4, ls[4].replace("204332,00", "204333,00")))
    _import(paths, _write_lines(tmp_path / "valeursfoncieres-2021.txt", price))
    assert seen == [False, False]
    monkeypatch.setattr(store, "staging_method", lambda: "another method")
    other = _release_of_2021(lambda ls: ls.__setitem__(4, ls[4].replace("204332,00", "204334,00")))
    _import(paths, _write_lines(tmp_path / "valeursfoncieres-2021.txt", other))
    assert seen == [False, False, False]


def test_the_same_file_twice_in_one_batch_is_imported_once(tmp_path: Path, paths: Paths) -> None:
    copy = tmp_path / "copie-2021.txt"
    copy.write_bytes(RAW_2021.read_bytes())
    lines: list[str] = []
    results = store.import_files(paths, [RAW_2021, copy], Settings(), log=lines.append)
    assert [r.skipped for r in results] == [False, True]
    assert f"skipped copie-2021.txt: the same content as {RAW_2021.name}" in lines
    assert query(paths.db, "select count(*) from dvf_rows")[0][0] == 41


def _field(line: str, index: int, value: str) -> str:
    fields = line.split("|")
    fields[index] = value
    return "|".join(fields)


PRICE, DEPARTEMENT, COMMUNE = 10, 18, 19  # fields of a raw DGFiP line


def _periods(db: Path) -> dict[tuple, tuple]:
    """Per stored period (year, half-year, department): its rows' batches and files, and count."""
    got = query(
        db,
        "select annee, semestre, code_departement, list(distinct batch_id order by batch_id), "
        "list(distinct source_file order by source_file), count(*) from dvf_rows group by all",
    )
    return {(a, s, d): (b, f, n) for a, s, d, b, f, n in got}


def _three_periods() -> tuple[list[str], list[str], list[str]]:
    """January 2021 in the Ain (the sample's 41 rows), the same sales in July, and in the Aisne."""
    rows = _raw_lines()[1:]
    july = [ln.replace("/01/2021|", "/07/2021|") for ln in rows]
    aisne = [_field(ln, DEPARTEMENT, "02") for ln in rows]
    return rows, july, aisne


def test_a_sale_kept_by_a_file_holding_only_one_of_its_departments_is_compared_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sale across the Ain and the Aisne (01426 and 02426), then a file of the Ain alone: it
    compares the sale's Ain half alone, equal to its lines, and keeps it, so that commune's
    half-year holds a sale its lines do not make, and gets no digest. The next file of both
    departments splits the sale in two: imported in part, it stores what a whole import stores
    (review: the half-year kept a digest, was left out, and the store kept the sale across both)."""
    ain = _raw_lines()[1:]
    aisne = [_field(ln, DEPARTEMENT, "02") for ln in ain]
    across = [ain[0], aisne[1]]  # the sample's first sale: two rows, now one in each department
    files = [
        raw_file(tmp_path / "a" / "valeursfoncieres-2021.txt", [*across, *ain[2:], *aisne[2:]]),
        raw_file(tmp_path / "b" / "valeursfoncieres-2021-01.txt", [ain[0], *ain[2:]]),
        raw_file(tmp_path / "c" / "valeursfoncieres-2021.txt", [ain[0], *ain[2:], *aisne[2:], aisne[1]]),
    ]
    part, whole = Paths.of(tmp_path / "part", tmp_path / "s"), Paths.of(tmp_path / "whole", tmp_path / "s")
    seen = _staged_in_part(monkeypatch)
    for f in files:
        got = _import(part, f)
        with monkeypatch.context() as m:
            m.setattr(store, "_digests_known", lambda con: False)
            expected = _import(whole, f)
        for r in (*got, *expected):
            r.seconds = 0.0
        assert got == expected, f
        assert import_differences(part.db, whole.db) == SAME_IMPORTS, f
    assert seen == [False, True, True]
    sales = "select count(distinct id_mutation) from dvf_rows where code_commune in ('01426', '02426')"
    assert query(part.db, sales) == [(2,)]  # the sale across both, split in two by the last file


def test_a_republished_file_rewrites_only_the_communes_whose_sales_changed(
    tmp_path: Path, paths: Paths
) -> None:
    january, july, aisne = _three_periods()
    first = raw_file(tmp_path / "valeursfoncieres-2021.txt", [*january, *july, *aisne])
    _import(paths, first)
    # Republished: one price corrected in January (one house, alone in its commune), July's lines in
    # another order (the same sales and mutations, renumbered), the Aisne as it was.
    repriced = [ln.replace("204332,00", "214332,00") for ln in january]
    assert repriced != january
    second = raw_file(tmp_path / "v2" / first.name, [*repriced, *july[::-1], *aisne])
    lines: list[str] = []
    (result,) = store.import_files(paths, [second], Settings(), log=lines.append)
    # 51 parts (a commune's half-year: 17 communes in 3 periods): the house's alone is replaced.
    assert (result.kept, result.replaced, result.added, result.removed) == (50, 1, 1, 1)
    assert any("1 stored row replaced, 50 unchanged commune half-years kept" in line for line in lines)
    assert _periods(paths.db) == {
        (2021, 1, "01"): ([1, 2], [first.name], 41),
        (2021, 2, "01"): ([1], [first.name], 41),  # the rows of the first import, its lines
        (2021, 1, "02"): ([1], [first.name], 41),
    }
    assert query(paths.db, "select count(*) from dvf_rows where valeur_fonciere = 214332")[0][0] == 1
    assert query(paths.db, "select distinct code_commune from dvf_rows where batch_id = 2") == [("01065",)]
    kept = query(paths.db, "select source_sha256 from dvf_rows where semestre = 2 limit 1")[0][0]
    assert kept == files.sha256_file(first)
    assert _import(paths, second)[0].skipped  # its last import, and the store holds its rows

    # Reverted to the first file: imported again (the store holds some of its rows, not all).
    (back,) = _import(paths, first)
    assert not back.skipped and (back.kept, back.replaced, back.added, back.removed) == (50, 1, 1, 1)
    fresh = Paths.of(tmp_path / "fresh", tmp_path / "fresh-site")
    _import(fresh, first)
    assert sorted(_rows(paths.db)) == sorted(_rows(fresh.db))


def test_a_file_with_the_same_sales_in_other_bytes_stores_nothing_and_is_then_skipped(
    tmp_path: Path, paths: Paths
) -> None:
    january, july, aisne = _three_periods()
    first = raw_file(tmp_path / "valeursfoncieres-2021.txt", [*january, *july, *aisne])
    _import(paths, first)
    before = tables(paths.db)
    reordered = raw_file(tmp_path / "v2" / first.name, [*aisne[::-1], *july, *january[::-1]])
    (result,) = _import(paths, reordered)
    assert (result.kept, result.replaced, result.added, result.removed) == (51, 0, 0, 0)
    after = tables(paths.db)  # the same rows; the import is logged, with the periods it covered
    assert {k: v for k, v in after.items() if k != "import_periods"} == {
        k: v for k, v in before.items() if k != "import_periods"
    }
    assert len(after["import_periods"]) == 2 * len(before["import_periods"])
    assert query(paths.db, "select rows_imported, rows_replaced, rows_added from update_log")[-1] == (
        123,
        0,
        0,
    )
    assert _import(paths, reordered)[0].skipped


def _repriced(source: Path, dest: Path) -> Path:
    """A copy of a geo-dvf file with its first row's price changed: another file of the same periods."""
    header, first, *rest = source.read_text("utf-8").splitlines()
    fields = first.split(",")
    fields[header.split(",").index("valeur_fonciere")] = "999999"
    return _write_lines(dest, [header, ",".join(fields), *rest])


def _stored(db: Path) -> list[tuple]:
    """The store's rows, each with its source, not with the batch that wrote it."""
    return query(db, "select * exclude (batch_id) from dvf_rows order by all")


def test_a_file_another_one_overtook_is_imported_again_when_the_source_names_it(
    tmp_path: Path, paths: Paths
) -> None:
    """`doit source=fix.csv` (another file of the same periods), then `doit` on the usual source: its
    file is imported again, over the other's rows, and the store is what the usual source alone
    makes; then it is skipped again. A source naming both is refused: each run would otherwise
    import one of them over the other. A store made before the periods were kept imports it again
    too (its periods are filled from its rows)."""
    hendaye, fix = HENDAYE[0], _repriced(HENDAYE[0], tmp_path / "fix.csv")
    alone = Paths.of(tmp_path / "alone", tmp_path / "alone-site")
    _import(alone, hendaye)
    at = Paths.of(tmp_path / "store", tmp_path / "site")
    _import(at, hendaye)
    _overtaken_then_named_again(at, hendaye, fix, alone)
    assert _import(at, hendaye)[0].skipped
    _import(at, fix)
    before = tables(at.db)
    with pytest.raises(InputError, match=f"{hendaye.name}: holds the same sales period as fix.csv"):
        _import(at, hendaye, fix)
    assert tables(at.db) == before
    assert query(at.db, "select status from update_log order by batch_id desc limit 1") == [("failed",)]
    older = Paths.of(tmp_path / "older", tmp_path / "older-site")
    _import(older, hendaye)
    with duckdb.connect(str(older.db)) as con:
        con.execute("drop table import_periods")
    _overtaken_then_named_again(older, hendaye, fix, alone)


def _overtaken_then_named_again(at: Paths, hendaye: Path, fix: Path, alone: Paths) -> None:
    (other,) = _import(at, fix)
    assert (other.skipped, other.replaced > 0) == (False, True)
    (again,) = _import(at, hendaye)
    assert (again.skipped, again.replaced) == (False, other.replaced)  # the part it changed
    assert (again.added, again.removed) == (other.removed, other.added) == (1, 1)
    assert _stored(at.db) == _stored(alone.db)


@pytest.mark.parametrize("files", [[RAW_2020], [RAW_2020, HENDAYE[0]]], ids=["in place", "in a copy"])
def test_too_little_memory_for_duckdb_is_one_line_and_changes_nothing(
    paths: Paths, files: list[Path]
) -> None:
    """memory_limit under what DuckDB needs (doit refuses under 100MB; a France build can still
    find a limit too low): the setting is named, not the file, nothing is stored and each file has
    its failed row. In a copy, the batch's working tables are dropped after its rollback: before,
    that statement's error ("transaction is aborted") hid DuckDB's."""
    with pytest.raises(OutOfMemoryError, match="^DuckDB ran out of memory within memory_limit: raise"):
        store.import_files(paths, files, Settings(memory_limit="8MB"), log=lambda _: None)
    assert query(paths.db, "select count(*) from dvf_rows") == [(0,)]
    log = query(paths.db, "select status, error from update_log")
    assert [(status, error.endswith(str(OutOfMemoryError()))) for status, error in log] == [
        ("failed", True)
    ] * len(files)
    assert guarded(lambda: _raise(duckdb.OutOfMemoryException("failed to pin block")))().message == str(
        OutOfMemoryError()
    )


def _raise(e: Exception) -> None:
    raise e


def test_a_mutation_across_communes_ties_their_parts(tmp_path: Path, paths: Paths) -> None:
    """A sale across commune 426 of the Ain and of the Aisne, another across 426 of the Aisne and
    of the Ardennes: a price changed in the Ardennes' 426 alone replaces the three communes' rows,
    so no mutation is split between two files; every other commune keeps its rows."""
    ain, aisne, ardennes = (
        [_field(ln, DEPARTEMENT, d) for ln in _raw_lines()[1:]] for d in ("01", "02", "08")
    )
    # Lines 1-2 of the sample are one mutation (a house and its outbuilding, commune 426): split
    # across departments.
    one = [ain[0], _field(aisne[1], DEPARTEMENT, "02")]
    two = [
        _field(aisne[0].replace("05/01/2021", "07/01/2021"), DEPARTEMENT, "02"),
        ardennes[1].replace("05/01/2021", "07/01/2021"),
    ]
    house = _field(ardennes[3], COMMUNE, "426")  # a house of the Ardennes' 426, a sale of its own
    lines = [*one, *ain[2:], *two, *aisne[2:], ardennes[2], house, *ardennes[4:]]
    first = raw_file(tmp_path / "valeursfoncieres-2021.txt", lines)
    _import(paths, first)
    spans = "select list(distinct code_commune order by code_commune) from dvf_rows group by id_mutation"
    assert sorted(c for (c,) in query(paths.db, spans) if len(c) > 1) == [
        ["01426", "02426"],
        ["02426", "08426"],
    ]
    changed = [house.replace("204332,00", "214332,00") if ln == house else ln for ln in lines]
    assert changed != lines
    (result,) = _import(paths, raw_file(tmp_path / "v2" / first.name, changed))
    assert result.replaced == 5  # 01426: 1 row, 02426: 2, 08426: 2
    new = "select code_commune, list(distinct batch_id) from dvf_rows group by 1 having max(batch_id) = 2"
    assert sorted(query(paths.db, new)) == [("01426", [2]), ("02426", [2]), ("08426", [2])]
    assert query(paths.db, "select count(distinct code_commune) from dvf_rows where batch_id = 1") == [(47,)]


def test_the_same_rows_grouped_into_other_mutations_change_the_period(tmp_path: Path, paths: Paths) -> None:
    """geo-dvf gives mutation ids: two sales merged into one is another count of goods per sale."""
    _import(paths, GEO_2021)
    header, *rows = GEO_2021.read_text("utf-8").splitlines()
    merged = [ln.replace("2021-2,", "2021-1,", 1) if ln.startswith("2021-2,") else ln for ln in rows]
    assert merged != rows
    (result,) = _import(paths, _write_lines(tmp_path / GEO_2021.name, [header, *merged]))
    # The two mutations' communes are replaced (3 rows), the 15 others kept: the same rows, but not
    # the same sales.
    assert (result.kept, result.replaced, result.added, result.removed) == (15, 3, 0, 0)
    assert query(paths.db, "select count(*) from dvf_rows where id_mutation = '2021-2'") == [(0,)]


AIN = Settings(departements="01")  # a site of Ain alone: statistics in a second, not all of France


def test_a_few_misdated_rows_cannot_move_the_window(tmp_path: Path, paths: Paths) -> None:
    """Ain's 172 sales of 2020, and one sale dated last month: the window still ends in 2020."""
    late = date.today().replace(day=1) - timedelta(days=1)
    lines = _raw_lines()[:2]
    lines[1] = lines[1].replace("05/01/2021", late.strftime("%d/%m/%Y"))
    assert late.strftime("%d/%m/%Y") in lines[1]
    store.import_files(paths, [RAW_2020, _write_lines(tmp_path / "late.txt", lines)], AIN, log=lambda _: None)
    stats.run(paths, Method(), AIN, log=lambda _: None)
    france = orjson.loads((paths.site / "data" / "france.json").read_bytes())
    assert france["metadata"]["window"] == {"from": 2016, "to": 2020}


def test_a_failure_in_a_batch_imports_none_of_its_files(tmp_path: Path, paths: Paths) -> None:
    bad = _edit(tmp_path, 6, "06/01/2021", "31/02/2021")
    with pytest.raises(InputError):
        _import(paths, RAW_2020, bad)
    assert query(paths.db, "select count(*) from dvf_rows")[0][0] == 0
    log = query(paths.db, "select source_file, status, error from update_log order by source_file")
    assert [r[1] for r in log] == ["failed", "failed"]
    assert log[0][2].startswith("not imported:")  # valeursfoncieres-2020_head...: innocent
    assert log[1][2].startswith(str(bad))  # valeursfoncieres-2021.txt: the culprit carries the message


KILL_BETWEEN_FILES = """
import os, signal, sys
from pathlib import Path
sys.path[:0] = [{root!r}]
from rules import query, store
from rules.paths import Paths
from rules.settings import Settings
run, staged = query.run, []
def killing_run(con, name, params=None):
    if name == "raw_lines":  # a file's staging starts: the second time, the first is committed
        staged.append(name)
        if len(staged) == 2:
            os.kill(os.getpid(), signal.SIGKILL)
    return run(con, name, params)
query.run = killing_run
store.import_files(Paths.of({build!r}, {site!r}), [Path(p) for p in {files!r}], Settings(), log=print)
"""


def _log_rows(paths: Paths) -> list[tuple]:
    return query(
        paths.db,
        "select batch_id, source_file, sha256, status, rows_imported, rows_replaced, rows_added, "
        "rows_removed, error from update_log order by batch_id, source_file",
    )


def _release_and_next_year(tmp_path: Path) -> list[Path]:
    """A batch of two files over a store holding RAW_2020: its new release (one price changed)
    and the next year's file."""
    lines = RAW_2020.read_text("utf-8").splitlines()
    fields = lines[5].split("|")
    fields[10] = "123456,00"  # Valeur fonciere
    lines[5] = "|".join(fields)
    return [_write_lines(tmp_path / RAW_2020.name, lines), RAW_2021]


def test_a_batch_killed_between_its_files_leaves_the_store_as_it_was(tmp_path: Path) -> None:
    """SIGKILL once a batch's first file is committed in the copy of the store it is imported
    into: the store is as it was, and the next import ends where an uninterrupted one does."""
    kept = Paths.of(tmp_path / "kept" / "build", tmp_path / "kept" / "site")
    _import(kept, RAW_2020)
    before = tables(kept.db), _log_rows(kept)
    batch = _release_and_next_year(tmp_path)
    script = KILL_BETWEEN_FILES.format(
        root=str(ROOT), build=str(kept.build), site=str(kept.site), files=[str(f) for f in batch]
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert proc.returncode == -9, proc.stdout + proc.stderr
    assert kept.db_work.exists()  # where the first file went
    assert (tables(kept.db), _log_rows(kept)) == before
    _import(kept, *batch)
    scratch = Paths.of(tmp_path / "scratch" / "build", tmp_path / "scratch" / "site")
    _import(scratch, RAW_2020)
    results = _import(scratch, *batch)
    assert [r.replaced for r in results][0] > 0  # the release replaced stored rows
    assert tables(kept.db) == tables(scratch.db)
    assert _log_rows(kept) == _log_rows(scratch)
    assert not kept.db_work.exists()


@pytest.mark.parametrize("point", ["raw_lines", "checkpoint"])
def test_ctrl_c_in_a_batch_of_files_records_it_in_the_store(
    tmp_path: Path, paths: Paths, monkeypatch: pytest.MonkeyPatch, point: str
) -> None:
    """Ctrl-C in a batch's second file, or as its copy of the store is written whole (the second
    checkpoint: the first is the store's, before the copy): the store as it was, a failed row for
    each file in it (not in the copy, which goes), and nothing left in build/tmp/."""
    _import(paths, RAW_2020)
    before = tables(paths.db)
    run = rules_query.run
    seen: list[str] = []

    def interrupted_run(con, name, params=None):  # type: ignore[no-untyped-def]
        if name == point:
            seen.append(name)
            if len(seen) == 2:
                raise KeyboardInterrupt
        return run(con, name, params)

    monkeypatch.setattr(rules_query, "run", interrupted_run)
    with pytest.raises(KeyboardInterrupt):
        _import(paths, *_release_and_next_year(tmp_path))
    assert tables(paths.db) == before
    log = query(paths.db, "select source_file, status, error from update_log where status = 'failed'")
    assert sorted(r[0] for r in log) == [RAW_2020.name, RAW_2021.name]
    assert all("interrupted" in r[2] for r in log), log
    assert not [p for p in paths.tmp.rglob("*") if p.is_file()]


def test_bad_input_through_doit_publish_changes_nothing(tmp_path: Path) -> None:
    """Every case above, as the weekly job meets it (`doit publish` on a site already online): the
    exact line, a non-zero exit, a failed row, and the store, site/ and the versions online as they were."""
    repo = tmp_path / "repo"
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    (repo / ".gitignore").write_text("/site/\n/versions/version.json\n")
    subprocess.run(["git", "-C", str(repo), "add", "-A"], check=True)
    subprocess.run(
        [
            "git",
            "-C",
            str(repo),
            "-c",
            "user.email=t@example.org",
            "-c",
            "user.name=t",
            "commit",
            "-qm",
            "init",
        ],
        check=True,
    )
    paths = Paths.of(tmp_path / "build", repo / "site")
    good = tmp_path / "good"
    good.mkdir()
    shutil.copy(RAW_2020, good / RAW_2020.name)
    common = (f"repo={repo}", "departements=01")
    run_doit(paths, "publish", *common, f"source={good}")

    def state() -> tuple:
        refs = subprocess.run(["git", "-C", str(repo), "show-ref"], capture_output=True, text=True).stdout
        site = {p: p.read_bytes() for p in paths.site.rglob("*") if p.is_file()}
        store = paths.store_manifest.read_bytes()
        return query(paths.db, "select * from dvf_rows order by all"), store, site, refs

    before = state()
    for case, (make, line, message) in BAD_INPUTS.items():
        source = tmp_path / case.replace(" ", "-")
        source.mkdir()
        shutil.copy(RAW_2020, source / RAW_2020.name)  # already in the store: only the bad file is new
        bad = make(source)
        proc = run_doit(paths, "publish", *common, f"source={source}", check=False)
        where = f"{bad}:{line}: " if line else f"{bad}: "
        errors = [ln for ln in proc.stderr.splitlines() if ln.strip()]
        assert proc.returncode == 1 and len(errors) == 1, (case, proc.stdout, proc.stderr)
        assert errors[0].startswith(f"error: {where}") and message in errors[0], (case, errors)
        assert state() == before, case
        status, error = query(
            paths.db, "select status, error from update_log order by batch_id desc limit 1"
        )[0]
        assert status == "failed" and message in error, case
        assert not [p for p in paths.tmp.rglob("*") if p.is_file()], f"{case}: build/tmp/ is left clean"


def test_the_referential_is_loaded_again_only_when_it_changes(
    tmp_path: Path, paths: Paths, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store's communes, departements and regions tables are the vendored referential's, loaded
    by the first import and again only when its files, or the SQL that loads them, changed."""
    _import(paths, RAW_2020)
    count = "select count(*) from communes"
    (communes,) = query(paths.db, count)[0]
    with duckdb.connect(str(paths.db)) as con:  # a mark the next load would erase
        con.execute("delete from communes where code = '01053'")
    _import(paths, RAW_2021)  # the same referential: not loaded again
    assert query(paths.db, count)[0][0] == communes - 1
    with duckdb.connect(str(paths.db)) as con:  # as if rules/reference/ had been updated since
        con.execute("update referential_state set digest = 'an older referential'")
    _import(paths, GEO_2021)
    assert query(paths.db, count)[0][0] == communes
    with duckdb.connect(str(paths.db)) as con:  # a store from before the digest was recorded
        con.execute("delete from communes where code = '01053'")
        con.execute("drop table referential_state")
    _import(paths, CEREMA)
    assert query(paths.db, count)[0][0] == communes
    (digest,) = query(paths.db, "select digest from referential_state")[0]
    assert digest.split()[:3] == reference.digests()
    original = rules_query.sql
    edited = original("departements").replace("select", "select 'edited' as marker,", 1)
    monkeypatch.setattr(rules_query, "sql", lambda name: edited if name == "departements" else original(name))
    _import(paths, raw_file(tmp_path / "paris.txt", PARIS_ROWS))
    assert query(paths.db, "select distinct marker from departements") == [("edited",)]


def test_every_duckdb_connection_is_opened_without_its_progress_bar(tmp_path: Path) -> None:
    """DuckDB draws a bar on stdout for any query over two seconds, on a terminal or not (a CI log
    of a full statistics pass was full of them): every connection goes through query.connect,
    which turns it off. Asked of a process of its own: under pytest's capture DuckDB has it off."""
    check = (
        "import duckdb; from rules import query; "
        "setting = \"select current_setting('enable_progress_bar')\"; "
        "print(duckdb.connect().execute(setting).fetchone()[0], "
        f"query.connect({str(tmp_path / 'x.duckdb')!r}).execute(setting).fetchone()[0])"
    )
    proc = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, cwd=ROOT, check=True)
    assert proc.stdout.split() == ["True", "False"], proc  # DuckDB's default, then ours
    rules = Path(rules_query.__file__).parent
    elsewhere = [p.name for p in sorted(rules.glob("*.py")) if "duckdb.connect(" in p.read_text("utf-8")]
    assert elsewhere == ["query.py"]
