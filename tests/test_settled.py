"""Pages left out of a run as up to date (rules/settled.py): doit runs exactly the page tasks it
would have run had it been given them all, through every way a page's state can move."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from doit.cmd_base import ModuleTaskLoader
from doit.doit_cmd import DoitMain
from doit.loader import create_after
from doit.reporter import ExecutedOnlyReporter

from rules import settled
from rules.doitedge import subtasks
from rules.md5checker import MD5Checker
from rules.recordcodec import RecordCodec

CODES = [f"p{i}" for i in range(8)]


class Site:
    """A small doit project run in-process: a template whose fingerprint a task writes, a JSON
    per page (p6's written by a task of its own, from a source file), one task per page, made
    during the run as dodo.py makes them, with or without leaving out the settled ones."""

    def __init__(self, folder: Path, leave_out: bool, checker: str | type = MD5Checker) -> None:
        self.folder, self.leave_out, self.checker = folder, leave_out, checker
        folder.mkdir()
        (folder / "template").write_text("t1")
        (folder / "source-p6").write_text("s1")
        for code in CODES:
            if code != "p6":
                self.json(code).write_text(f"{code}: 1")
        self.ran: list[str] = []
        self.made: list[int] = []  # per making of the page tasks in the last run: how many left out

    def json(self, code: str) -> Path:
        return self.folder / f"{code}.json"

    def page(self, code: str) -> Path:
        return self.folder / code / "index.html"

    def source(self, text: str) -> None:
        """The source of p6's JSON, which the task `late` writes."""
        (self.folder / "source-p6").write_text(text)

    def ignore_then_change(self, code: str) -> None:
        self.doit("ignore", f"pages:{code}")
        self.json(code).write_text(f"{code}: 2")

    def doit(self, *args: str) -> list[str]:
        """Run doit in-process; the page tasks it executed."""
        self.ran, self.made = [], []
        site = self

        class Recorder(ExecutedOnlyReporter):
            counts_left_out = True  # as dodo.py's Reporter

            def execute_task(self, task: object) -> None:
                site.ran.append(task.name)  # type: ignore[attr-defined]

        code = DoitMain(ModuleTaskLoader(self._namespace(Recorder))).run(list(args))
        assert not code, args  # 0, or None from forget and ignore
        return sorted(name for name in self.ran if name.startswith("pages:"))

    def _namespace(self, reporter: type) -> dict:
        folder = self.folder

        def fingerprint() -> None:
            """Written only when its bytes change, as dodo.py's fingerprints are."""
            text = (folder / "template").read_text() + "!"
            fp = folder / "fp"
            if not fp.exists() or fp.read_text() != text:
                fp.write_text(text)

        def write_json() -> None:
            self.json("p6").write_text((folder / "source-p6").read_text())

        def render(code: str) -> None:
            self.page(code).parent.mkdir(exist_ok=True)
            self.page(code).write_text(self.json(code).read_text() + (folder / "fp").read_text())

        def task_fingerprint() -> dict:
            return {"actions": [fingerprint], "file_dep": [folder / "template"], "targets": [folder / "fp"]}

        @create_after(executed="fingerprint")
        def task_pages() -> Iterator:
            """Pages."""
            declared = [
                {
                    "name": code,
                    "actions": [(render, [code])],
                    "file_dep": [str(self.json(code)), folder / "fp"],
                    "targets": [str(self.page(code))],
                    "clean": True,
                }
                for code in CODES
            ]
            pages = settled.still_to_check("pages", declared) if self.leave_out else declared
            self.made.append(len(declared) - len(pages))
            yield from subtasks("pages", pages, task_pages.__doc__)

        def task_late() -> dict:
            return {
                "actions": [write_json],
                "file_dep": [folder / "source-p6"],
                "targets": [self.json("p6")],
            }

        return {
            "task_fingerprint": task_fingerprint,
            "task_pages": task_pages,
            "task_late": task_late,
            "DOIT_CONFIG": {
                "dep_file": str(folder / "doit.sqlite3"),
                "backend": "sqlite3",
                "codec_cls": RecordCodec,
                "check_file_uptodate": self.checker,  # dodo.py's, or doit's own ("md5")
                "reporter": reporter,
                "default_tasks": ["fingerprint", "late", "pages"],
            },
        }


def _touch_later(path: Path) -> None:
    """A new mtime, whatever the clock's resolution."""
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000_000))


@pytest.fixture
def sites(tmp_path: Path) -> tuple[Site, Site]:
    settled.watch_runs()
    return Site(tmp_path / "all", leave_out=False), Site(tmp_path / "settled", leave_out=True)


def test_doit_runs_the_pages_it_would_run_given_them_all(sites: tuple[Site, Site], tmp_path: Path) -> None:
    """The same changes to copies of a site, one run giving doit every page task, another leaving
    out the settled ones, both with dodo.py's checker, and a third with doit's own checker and
    every page: doit executes the same pages at every step, the expected ones."""
    steps: list[tuple[str, Callable[[Site], object], list[str], list[str], int]] = [
        # what happens, the change, doit's arguments, the pages run, the pages left out
        ("first build", lambda s: None, [], CODES, 0),
        ("nothing changed", lambda s: None, [], [], 8),
        ("an input touched, same bytes", lambda s: _touch_later(s.json("p1")), [], [], 7),
        ("an input changed", lambda s: s.json("p1").write_text("p1: 2"), [], ["p1"], 7),
        ("a page removed", lambda s: s.page("p2").unlink(), [], ["p2"], 7),
        ("a task run later writes an input", lambda s: s.source("s2"), ["pages", "late"], ["p6"], 7),
        ("a template changed", lambda s: (s.folder / "template").write_text("t2"), [], CODES, 0),
        ("a record forgotten", lambda s: s.doit("forget", "pages:p3"), [], ["p3"], 7),
        ("one page asked for", lambda s: s.json("p4").write_text("p4: 2"), ["pages:p4"], ["p4"], 0),
        ("every task forced", lambda s: None, ["-a", "pages"], CODES, 0),
        ("a page ignored", lambda s: s.ignore_then_change("p5"), [], [], 7),
        ("the ignore undone", lambda s: s.doit("forget", "pages:p5"), [], ["p5"], 7),
        ("nothing changed, again", lambda s: None, [], [], 8),
    ]  # fmt: skip
    everything, leaving_out = sites
    doits_own = Site(tmp_path / "doit", leave_out=False, checker="md5")
    for what, change, args, expected, left_out in steps:
        ran = []
        for site in (*sites, doits_own):
            change(site)
            ran.append(site.doit(*args))
        assert ran[0] == ran[1] == ran[2] == [f"pages:{c}" for c in expected], what
        assert (everything.made, leaving_out.made) == ([0], [left_out]), what


@pytest.mark.parametrize(
    "args",
    [
        ["--check_file_uptodate", "timestamp"],  # records an mtime, not (mtime, size, md5)
        ["-n", "2", "-P", "thread"],  # tasks made later finish in any order
    ],
)
def test_nothing_is_left_out_where_doit_must_see_all(sites: tuple[Site, Site], args: list[str]) -> None:
    """Another checker and doit's parallel runners get every page task, and doit runs the pages it
    would have run."""
    _, site = sites
    assert site.doit(*args) == [f"pages:{c}" for c in CODES]
    assert site.doit(*args) == [] and site.made == [0]
    site.json("p1").write_text("p1: 2")
    assert site.doit(*args) == ["pages:p1"] and site.made == [0]


def test_a_reporter_that_lists_up_to_date_tasks_still_lists_every_page(
    sites: tuple[Site, Site], tmp_path: Path
) -> None:
    _, site = sites
    site.doit()
    site.doit("--reporter", "console", "--output-file", str(tmp_path / "out.txt"))
    assert site.made == [0]
    lines = (tmp_path / "out.txt").read_text().splitlines()
    listed = [ln for ln in lines if ln.startswith("-- pages:")]  # doit's line for an up-to-date task
    assert listed == [f"-- pages:{c}" for c in CODES]
