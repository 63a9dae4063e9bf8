"""`doit` itself: builds from the shipped sample, stays quiet when nothing changed, fails in one line."""

from __future__ import annotations

import hashlib
import math
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from conftest import RAW_2020, RAW_2021, doit_env, query, run_doit, tables
from frenchcheck import check

from rules import config
from rules import health as health_module
from rules import paths as pages
from rules import places as pl
from rules.paths import ROOT, Paths

README = ROOT / "README.md"

AIN = "departements=01"  # the sample's department: a small site keeps these tests fast


def test_the_readme_build_shows_real_figures_at_the_urls_readme_names(paths: Paths) -> None:
    """README's `doit`: the shipped sample (Ain 2020-2021, Hendaye 2019-2023), the departments it
    holds, one summary line per step, real medians at the example URLs; then a silent second run."""
    first = run_doit(paths)
    lines = first.stdout.splitlines()
    assert sum(ln.startswith("imported ") for ln in lines) == 7
    assert any(ln.startswith("stats: 941 places in ") for ln in lines)
    assert any(re.fullmatch(r"render: 945 pages in [\d.]+ s", ln) for ln in lines)
    assert not any(ln.startswith(".  ") for ln in lines), "no per-task lines without -v 2"
    assert query(paths.db, "select count(*) from dvf_rows")[0][0] == 172 + 41 + 2575
    assert sorted(p.name for p in (paths.site / "departement").iterdir()) == ["01", "64"]
    urls = set(re.findall(r"http://127\.0\.0\.1:8000(/[a-z]+/[0-9AB]+/)", README.read_text("utf-8")))
    assert urls, "README names example pages"
    for url in urls:
        html = (paths.site / url.strip("/") / "index.html").read_text("utf-8")
        assert re.search(r"[0-9]\u202f[0-9]{3}\u202f€/m²", html), f"{url} shows no median"
    home = (paths.site / "index.html").read_text("utf-8")
    assert (
        "Chiffres partiels\u202f: ce site ne couvre que l’Ain (01) et les Pyrénées-Atlantiques (64)." in home
    )
    second = run_doit(paths)
    assert (second.stdout, second.stderr) == ("", "")


@pytest.mark.france
def test_all_of_france_then_a_second_run_does_nothing_and_prints_nothing(paths: Paths) -> None:
    first = run_doit(paths, "departements=all")  # every commune's page, most of them without sales
    assert re.search(r"^render: 35,0\d\d pages in ", first.stdout, re.MULTILINE), first.stdout
    assert "Chiffres partiels" not in (paths.site / "index.html").read_text("utf-8")
    # French on the pages where names take an article (typeLiaison 1 to 8), every department and
    # region, France; and every one of the 35,000 titles under 65 characters.
    places = pl.all_places()
    wanted = [
        key for key, p in places.items() if p.level != "commune" or p.liaison or p.kind == "arrondissement"
    ]
    faults = []
    for level, code in wanted:
        page = paths.site / pages.page_file(level, code)
        faults += check(page.relative_to(paths.site).as_posix(), page.read_text("utf-8"))[1]
    assert not faults, "\n".join(faults[:20]) + f"\n({len(faults)} faults on {len(wanted)} pages)"
    for level, code in places:
        html = (paths.site / pages.page_file(level, code)).read_text("utf-8")
        title = html[html.index("<title>") + 7 : html.index("</title>")]
        assert len(title) <= 65, title
    second = run_doit(paths, "departements=all")
    assert (second.stdout, second.stderr) == ("", "")


@pytest.mark.parametrize(
    ("args", "env", "line"),
    [
        (["sourc=x"], {}, "unknown setting sourc: did you mean source?"),
        (
            [],
            {"IMMOSTATS_DEPARTMENTS": "01"},
            "unknown setting departments (environment variable "
            "IMMOSTATS_DEPARTMENTS): did you mean departements?",
        ),
        (["memory_limit=lots"], {}, "memory_limit=lots: expected a size such as 3GB or 500MB"),
        (
            ["memory_limit=1KB"],
            {},
            "memory_limit=1KB: must be at least 100MB (DuckDB cannot import and compute within less; "
            "2GB builds all of France)",
        ),
        (
            ["min_surface=500", "max_surface=100"],
            {},
            "min_surface=500 and max_surface=100: min_surface must be below max_surface",
        ),
        (
            ["grade_min=50"],
            {},
            "grade_min=50, grade_good=30, grade_high=100: grades must satisfy 0 < grade_min <= grade_good "
            "<= grade_high",
        ),
        (
            ["contact=nope"],
            {},
            "contact=nope: expected an e-mail address (name@example.org) or an http(s) URL",
        ),
        (
            ["site_url=notaurl"],
            {},
            "site_url=notaurl: expected an absolute http(s) URL such as https://example.org",
        ),
        (
            ["site_url=https://owner.github.io/immostats"],
            {},
            "site_url=https://owner.github.io/immostats: the site must be served at the root of its host "
            "(its links start with /): a domain of its own, not a folder such as a GitHub project page",
        ),
        (["window_years=0"], {}, "window_years=0: must be at least 1"),
        (["connect_timeout=abc"], {}, "connect_timeout=abc: expected a number"),
        (["threads=1.5"], {}, "threads=1.5: expected a whole number"),
        (["min_value=1e400"], {}, "min_value=1e400: expected a whole number"),
        (["year_drop=nan"], {}, "year_drop=nan: expected a finite number"),
        (["push=maybe"], {}, "push=maybe: expected 1 or 0 (yes/no, true/false)"),
        (["purge_wait=-1"], {}, "purge_wait=-1: must be at least 0"),
        (
            ["datagouv_api=file:///etc"],
            {},
            "datagouv_api=file:///etc: expected an absolute http(s) URL such as https://example.org",
        ),
        (["status=meh", "notify"], {}, "status=meh: expected success or failure"),
        (["departements=01,XX"], {}, "departements=01,XX: unknown department code XX"),
        (
            ["deploy_branch=dvf-history-next-root"],
            {},
            "deploy_branch=dvf-history-next-root: publish keeps the next root of "
            "history_branch=dvf-history there: choose another",
        ),
    ],
)
def test_a_bad_setting_is_one_line_and_changes_nothing(
    paths: Paths, args: list[str], env: dict[str, str], line: str
) -> None:
    proc = run_doit(paths, *args, check=False, env=env)
    assert (proc.returncode, proc.stdout, proc.stderr) == (2, "", f"error: {line}\n")
    assert not paths.db.exists() and not paths.site.exists()


def test_a_folder_setting_no_folder_can_be_made_at_is_one_line(tmp_path: Path) -> None:
    """build_dir or site_dir naming a file, or inside one, or in a read-only place: one line
    (these were tracebacks), exit 2, and nothing made."""
    file = tmp_path / "notes.txt"
    file.write_text("mine\n")
    site = tmp_path / "site"
    cases = [
        (Paths.of(file, site), f"build_dir={file}: not a folder"),
        (
            Paths.of(file / "build", site),
            f"build_dir={file / 'build'}: not a folder ({file} is not a folder)",
        ),
        (Paths.of(tmp_path / "build", file), f"site_dir={file}: not a folder"),
    ]
    readonly = tmp_path / "readonly"
    readonly.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(readonly)]).returncode == 0:
        cases.append(
            (
                Paths.of(tmp_path / "build", readonly / "site"),
                f"site_dir={readonly / 'site'}: {readonly} is not writable by this user",
            )
        )
    try:
        for paths, line in cases:
            proc = run_doit(paths, check=False)
            assert (proc.returncode, proc.stdout, proc.stderr) == (2, "", f"error: {line}\n")
            assert file.read_text() == "mine\n" and not site.exists() and not (tmp_path / "build").exists()
    finally:
        subprocess.run(["umount", "-l", str(readonly)], capture_output=True)


def test_readme_lists_every_setting_as_the_code_declares_it() -> None:
    """README's table is made from the settings' own fields (`python -m rules.config`)."""
    text = README.read_text("utf-8")
    start, end = text.index(config.TABLE_START), text.index(config.TABLE_END) + len(config.TABLE_END)
    assert text[start:end] == config.settings_table(), "run python -m rules.config and paste its table"
    assert all(f"| `{name}` |" in text[start:end] for name in config.known_names())


def test_bad_source_is_one_line_and_the_store_is_untouched(tmp_path: Path, paths: Paths) -> None:
    run_doit(paths, AIN)
    before = tables(paths.db)
    site = {p: p.read_bytes() for p in paths.site.rglob("*") if p.is_file()}
    bad = tmp_path / "valeursfoncieres-2021.txt"
    bad.write_bytes(RAW_2021.read_bytes().replace(b"204332,00", b"abc", 1))
    proc = run_doit(paths, AIN, f"source={bad}", check=False)
    assert proc.returncode != 0
    errors = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert errors == [f"error: {bad}:5: Valeur fonciere 'abc' is not a number"]
    assert "Traceback" not in proc.stdout + proc.stderr
    assert tables(paths.db) == before
    assert {p: p.read_bytes() for p in paths.site.rglob("*") if p.is_file()} == site
    # Back to the good source, the next run works normally.
    run_doit(paths, AIN)
    assert run_doit(paths, AIN).stdout == ""
    # The public health file says the last import failed, not where or with what value.
    health = (paths.site / "api" / "health.json").read_text("utf-8")
    assert '"status":"failed"' in health and health_module.PUBLIC_ERROR in health
    assert str(tmp_path) not in health and "abc" not in health
    assert str(tmp_path) not in (paths.site / "admin" / "index.html").read_text("utf-8")


def test_a_department_without_rows_is_pointed_out(tmp_path: Path, paths: Paths) -> None:
    """departements=01,75 on Ain's rows: Paris gets pages without a figure, and the run says why
    (a mistyped code would otherwise pass for a success); Mayotte, absent from DVF, is not named."""
    source = tmp_path / "source"
    source.mkdir()
    shutil.copy(RAW_2021, source)
    out = run_doit(paths, "departements=01,75,976", f"source={source}").stdout
    warning = (
        "warning: no DVF row in the store for 1 department of the site (75): their pages show no figures"
    )
    assert warning in out.splitlines(), out


def test_missing_source_is_one_line(tmp_path: Path, paths: Paths) -> None:
    proc = run_doit(paths, AIN, f"source={tmp_path / 'nope'}", check=False)
    assert proc.returncode != 0
    assert proc.stderr.strip() == f"error: source={tmp_path / 'nope'}: no such file or folder"


def _files(site: Path) -> dict[str, bytes]:
    return {p.relative_to(site).as_posix(): p.read_bytes() for p in sorted(site.rglob("*")) if p.is_file()}


def test_the_sources_are_known_by_their_sha256_and_doit_does_not_read_them_again(
    tmp_path: Path, paths: Paths
) -> None:
    """The load task declares the DVF sources by the sha256 the import keeps (files_unchanged):
    doit's checker no longer reads each changed source again for its md5 after the import (0.9 s
    per 500 MB file). A touched source with the same bytes runs no task; a changed one, even with
    its size and mtime put back, is imported; a removed one runs the import, which keeps the
    store's rows (their periods are not in the source any more)."""
    source = tmp_path / "source"
    source.mkdir()
    data = RAW_2021.read_bytes()
    raw = source / RAW_2021.name
    raw.write_bytes(data)
    args = (AIN, f"source={source}")
    run_doit(paths, *args)
    record = orjson.loads(_doit_record(paths, "load"))
    assert not [k for k in record if k.startswith(str(source))], "doit keeps no md5 of a source"
    assert record["_values_:"]["_files_unchanged"] == [[str(raw), hashlib.sha256(data).hexdigest()]]

    later = raw.stat().st_mtime_ns + 5 * 10**9
    os.utime(raw, ns=(later, later))
    assert run_doit(paths, *args).stdout == ""
    assert data.count(b"185000,00") == 3
    raw.write_bytes(data.replace(b"185000,00", b"186000,00"))  # the same size and mtime
    os.utime(raw, ns=(later, later))
    assert "imported valeursfoncieres-2021" in run_doit(paths, *args).stdout
    assert run_doit(paths, *args).stdout == ""
    rows = query(paths.db, "select count(*) from dvf_rows")
    shutil.copy(RAW_2020, source)
    raw.unlink()
    assert "imported valeursfoncieres-2020" in run_doit(paths, *args).stdout
    assert query(paths.db, "select count(*) from dvf_rows where source_file = ?", [raw.name]) == rows
    assert run_doit(paths, *args).stdout == ""


def _doit_record(paths: Paths, task: str) -> str:
    con = sqlite3.connect(paths.doit_db)
    try:
        (data,) = con.execute("select task_data from doit where task_id = ?", [task]).fetchone()
    finally:
        con.close()
    return data


def test_an_emptied_site_is_rebuilt_complete(paths: Paths) -> None:
    """A runner whose build/ comes from a cache and whose site/ does not: nothing may go missing."""
    run_doit(paths, AIN)
    before = _files(paths.site)
    assert any(p.startswith("assets/app.") and p.endswith(".css") for p in before)
    shutil.rmtree(paths.site / "assets")
    assert run_doit(paths, "-v", "2", AIN).stdout == ".  assets\n"
    assert _files(paths.site) == before
    shutil.rmtree(paths.site)
    run_doit(paths, AIN)
    assert _files(paths.site) == before
    assert run_doit(paths, AIN).stdout == ""


def test_a_reader_that_goes_away_drops_the_output_not_the_run(paths: Paths) -> None:
    """`doit | head`, or a pager closed early: the output's reader is gone before doit writes its
    first line (unbuffered: the first task's line fails, not only the flush at exit). The run goes
    on to the end (status 0, no traceback), as a second run shows; `doit list | head` ends there."""
    env = doit_env(PYTHONUNBUFFERED="1")
    where = [f"repo={paths.build.parent / 'no-repo'}", f"build_dir={paths.build}", f"site_dir={paths.site}"]

    def without_reader(*args: str) -> subprocess.CompletedProcess:
        read, write = os.pipe()
        os.close(read)  # gone before the first line: the first write fails, whatever the timing
        try:
            cmd = [sys.executable, "-m", "doit", *args, "-f", str(ROOT / "dodo.py"), *where]
            return subprocess.run(cmd, stdout=write, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env)
        finally:
            os.close(write)

    proc = without_reader("-v", "2", AIN)
    assert (proc.returncode, proc.stderr) == (0, "")
    assert run_doit(paths, AIN).stdout == ""  # the build was complete
    assert (paths.site / "ville" / "01053" / "index.html").exists()
    # A command that only prints ends there, silently, as `ls | head` does.
    proc = without_reader("list", "--all")
    assert (proc.returncode, proc.stderr) == (-signal.SIGPIPE, "")


def test_readme_layout_lists_every_module() -> None:
    layout = README.read_text("utf-8").split("## Layout", 1)[1]
    names = set(re.findall(r"([a-z0-9_]+\.py)", layout))
    modules = {p.name for p in (ROOT / "rules").glob("*.py")} - {"__init__.py"}
    assert modules - names == set(), "modules missing from README's layout"
    assert names - modules - {"dodo.py", "gha.py"} == set(), "README names modules that do not exist"


def test_doit_records_are_read_in_one_query_with_doit_own_values(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Preloading doit's sqlite3 records gives every task the record doit's own per-task read would,
    keeps a record this run already changed, and leaves nothing for doit to read afterwards."""
    from doit.dependency import Dependency, SqliteDB
    from doit.globals import Globals

    from rules.doitedge import preload_records

    file = str(tmp_path / "doit.sqlite3")
    saved = Dependency(SqliteDB, file)
    for name, value in [("load", "1"), ("render:01001", "2"), ("render:01002", "3")]:
        saved.backend.set(name, "result:", value)
    saved.close()
    expected = Dependency(SqliteDB, file)
    live = Dependency(SqliteDB, file)
    live.backend.set("load", "result:", "changed this run")
    monkeypatch.setattr(Globals, "dep_manager", live)
    assert preload_records(["render:01001", "render:01003"]) == 2  # 01003: a page new to this build

    class NoQuery:
        def execute(self, *args: object) -> None:
            raise AssertionError("doit queried its database after the preload")

    live.backend._conn = NoQuery()
    for name in ("render:01001", "render:01002"):
        assert live.backend.get(name, "result:") == expected.backend.get(name, "result:") is not None
    assert live.backend.get("load", "result:") == "changed this run"
    assert live.backend.get("render:01003", "result:") is expected.backend.get("render:01003", "result:")
    assert live.backend._cache["render:01003"] == expected.backend._cache["render:01003"] == {}
    monkeypatch.setattr(Globals, "dep_manager", None)
    assert preload_records() == 0


def test_doit_records_read_the_same_through_either_codec(tmp_path: Path) -> None:
    """dodo.py's orjson codec reads the records doit's json codec wrote (a build/ from before it,
    restored from a CI cache) as doit would, and the other way round."""
    from doit.dependency import Dependency, JSONCodec, SqliteDB

    from rules.recordcodec import RecordCodec

    values = {
        "site/ville/97611/index.html": [1733488441.123456, 51234, "d41d8cd98f00b204e9800998ecf8427e"],
        "_config_changed": "6f1ed002ab5595859014ebf0951522d9",
        "result:": {"nom": "Saint-Étienne-du-Rouvray", "œ": "«\u00a0»", "n": 10**18, "x": 1e-7},
        "checker:": "MD5Checker",
        "deps:": ["templates/commune.html", "build/data/64/64260.json"],
        "_values_:": {"huge": 2**64, "inf": float("inf"), "none": None, "counts": {"1": 2}},
    }
    codecs = {"json": JSONCodec, "orjson": RecordCodec}
    for writer, reader in [("json", "orjson"), ("orjson", "json")]:
        file = str(tmp_path / f"{writer}.sqlite3")
        saved = Dependency(SqliteDB, file, codec_cls=codecs[writer])
        for key, value in values.items():
            saved.backend.set("render:97611", key, value)
        saved.close()
        read = Dependency(SqliteDB, file, codec_cls=codecs[reader])
        assert {k: read.backend.get("render:97611", k) for k in values} == values, (writer, reader)
        read.close()
    # Where orjson and json differ (NaN, keys that are not strings), the record is json's own.
    odd = {"nan": float("nan"), "keys": {1: "one"}}
    for codec in codecs.values():
        back = RecordCodec().decode(codec().encode(odd))
        assert math.isnan(back["nan"]) and back["keys"] == {"1": "one"}
    assert JSONCodec().decode(RecordCodec().encode(odd))["keys"] == {"1": "one"}


def test_page_subtasks_are_the_tasks_doit_would_make(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """doitedge.subtasks copies each page task from the first one doit made: every attribute equals
    what doit's loader makes from the same dicts (doit is pinned), no two tasks share a list, set
    or dict, the dicts are left as declared, and what the copy cannot make goes through doit's own
    checks."""
    import copy

    from doit.exceptions import InvalidTask
    from doit.loader import generate_tasks
    from doit.task import Task, dict_to_task

    from rules import doitedge
    from rules.doitedge import guarded, subtasks

    made_by_doit: list[str] = []

    def counted(entry: dict) -> Task:
        made_by_doit.append(entry["name"])
        return dict_to_task(entry)

    monkeypatch.setattr(doitedge, "dict_to_task", counted)

    def page(level: str, code: str) -> None:
        """Render one page."""

    declared = [
        {
            "name": "static-404",
            "actions": [(guarded(page), ["x", "404"])],
            "file_dep": [tmp_path / "fp"],
            "targets": [tmp_path / "404.html"],
            "clean": True,
            "uptodate": [True],
        },  # fmt: skip
        *(
            {
                "name": code,
                "actions": [(guarded(page), ["commune", code])],
                "file_dep": [tmp_path / f"{code}.json", str(tmp_path / "fp")],
                "targets": [tmp_path / code / "index.html"],
                "clean": True,
            }
            for code in ("01001", "01002", "64260")
        ),
        {
            "name": "mentions",
            "actions": [(page, ["x", "m"])],
            "file_dep": [],
            "targets": [],
            "clean": [(page, ["x", "y"])],
        },
    ]

    def task_pages() -> Iterator[dict]:
        """Pages."""
        yield from (dict(entry) for entry in declared)

    theirs = generate_tasks("pages", task_pages(), task_pages.__doc__)
    before = copy.deepcopy(declared)
    ours = generate_tasks("pages", subtasks("pages", declared, task_pages.__doc__), "x")
    assert [t.name for t in ours] == [t.name for t in theirs]
    assert made_by_doit == ["pages:static-404", "pages:01001", "pages:mentions"]  # the other pages: copies
    assert declared == before  # doit's loader renames them in place

    def attrs(task: Task) -> dict:
        """A task's attributes, its IO settings and action objects (made from its declaration) as values."""
        return {
            k: vars(v)
            if k == "io"
            else [(type(a), a.py_callable, a.args) for a in v]
            if k == "clean_actions"
            else v
            for k, v in vars(task).items()
        }

    for mine, doits in zip(ours, theirs, strict=True):
        assert attrs(mine) == attrs(doits), mine.name
        assert [(type(a), a.py_callable, a.args) for a in mine.actions] == [
            (type(a), a.py_callable, a.args) for a in doits.actions
        ]
    shared = [
        (a.name, b.name, key)
        for i, a in enumerate(ours)
        for b in ours[i + 1 :]
        for key, value in vars(a).items()
        if isinstance(value, list | set | dict) and value is vars(b).get(key)
    ]
    assert shared == []
    with pytest.raises(InvalidTask, match="duplicated definition of 'pages:01001'"):
        list(subtasks("pages", [declared[1], declared[1]], None))
    with pytest.raises(InvalidTask, match="name must not use"):
        list(subtasks("pages", [declared[1], {**declared[2], "name": "a=b"}], None))
    for odd in ("x.json", (p for p in ["x.json"]), {"x.json"}):  # what doit refuses in a file list
        with pytest.raises(InvalidTask, match="file_dep"):
            list(subtasks("pages", [declared[1], {**declared[2], "file_dep": odd}], None))
    with pytest.raises(InvalidTask, match="needs a name"):
        list(subtasks("pages", [{**declared[1], "name": None}], None))
