"""Pages computed ahead on the other core (rules/prerender.py): the same bytes as a task renders,
doit's own judgement of what is out of date, and a worker that can die, or outlive nothing."""

from __future__ import annotations

import mmap
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from doit.dependency import Dependency, MD5Checker, SqliteDB, get_file_md5
from doit.task import Task

from rules import places, prerender, render
from rules.doitedge import INTERRUPTED
from rules.files import KNOWN_MD5, stat_key
from rules.paths import ROOT, Paths
from tests.conftest import RAW_2020, doit_env, make_source, replace_keeping_times, run_doit


def _pages(paths: Paths) -> list[prerender.Page]:
    """The commune pages of a build, as dodo.py declares them (JSON and fingerprint, the page)."""
    fingerprint = str(render.fingerprint_path(paths, render.PAGE_TEMPLATES["commune"]))
    codes = sorted(p.stem for p in (paths.site / "data" / "villes").glob("*.json"))
    return [
        prerender.Page(
            f"render:{code}",
            "commune",
            code,
            tuple(map(str, render.page_inputs(paths, "commune", code, fingerprint))),
            render.page_file(paths, "commune", code),
        )
        for code in codes
    ]


def _plan(pages: list[prerender.Page]) -> tuple:
    """What dodo.py declares: the pages' (level, code), then the pages, in doit's order."""
    return lambda: [(p.level, p.code) for p in pages], lambda: pages


@pytest.fixture()
def copy(built: Paths, tmp_path: Path) -> Paths:
    shutil.copytree(built.build.parent, tmp_path / "b", symlinks=True)
    return Paths.of(tmp_path / "b" / "build", tmp_path / "b" / "site")


@pytest.fixture(autouse=True)
def fresh_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(prerender, "RUN", prerender._Run())  # what a new doit process starts with
    monkeypatch.setattr(prerender, "MIN_PAGES", 0)  # the sample's 945 pages: a worker all the same


def test_a_small_site_starts_no_worker(copy: Paths, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(prerender, "MIN_PAGES", 1_000)
    pages = _pages(copy)
    prerender.plan(*_plan(pages), copy.build / "no-record.sqlite3", copy)
    for page in pages[: prerender.START_AFTER + 1]:
        render.render_place(copy, page.level, page.code)
    assert len(pages) < 1_000 and prerender.RUN.ahead is None


def test_pages_computed_ahead_are_the_pages_the_tasks_render(copy: Paths) -> None:
    """Every commune page removed, then rendered in doit's order with the worker: it computes most
    of them, and each page holds the bytes its task alone renders. A JSON changed after the worker
    read it is not taken: rewritten in place, or replaced by a file of the same size and times."""
    pages = _pages(copy)
    assert len(pages) > 200
    for page in pages:
        Path(page.target).unlink()
    mid = len(pages) // 2
    changed, replaced = pages[mid], pages[mid + 2]
    doc = places.json_path(copy, "commune", changed.code)
    prerender.plan(*_plan(pages), copy.build / "no-record.sqlite3", copy)
    for n, page in enumerate(pages):
        if n == mid - 2 * prerender.JUMP:  # the worker has those pages: their JSON change under it
            ahead = prerender.RUN.ahead
            assert ahead is not None, "the worker starts after START_AFTER pages in a row"
            for _ in range(300):
                if mid + 2 in ahead.results:
                    break
                ahead._receive(0.1)
            assert ahead.results.get(mid) is not None and ahead.results.get(mid + 2) is not None
            doc.write_bytes(doc.read_bytes().replace(b'"nom":"', b'"nom":"X', 1))
            _replace_same_size(Path(replaced.deps[0]))
        assert render.render_place(copy, page.level, page.code)
    ahead = prerender.RUN.ahead
    assert ahead is not None and ahead.taken > len(pages) // 4, ahead.taken
    for page in pages:
        raw = places.json_path(copy, page.level, page.code).read_bytes()
        assert Path(page.target).read_bytes() == render.page_html(copy, page.level, page.code, raw), page
    assert b">X" in Path(changed.target).read_bytes()
    assert b">Y" in Path(replaced.target).read_bytes()
    for page in pages:  # the md5 doit records, which the task took from the worker or its own read
        json_file = page.deps[0]
        assert KNOWN_MD5[json_file] == (stat_key(os.stat(json_file)), get_file_md5(json_file)), page
    ahead.close()
    assert ahead.proc.returncode is not None


def _replace_same_size(doc: Path) -> None:
    """The JSON replaced as the statistics replace it (a new file renamed over it), its name's first
    letter now Y: same size, and given the old file's times."""
    data, stat = doc.read_bytes(), doc.stat()
    at = data.index(b'"nom":"') + len(b'"nom":"')
    replace_keeping_times(doc, data[:at] + b"Y" + data[at + 1 :], stat)
    assert doc.stat().st_size == stat.st_size and doc.stat().st_mtime_ns == stat.st_mtime_ns


def _without_worker(results: dict) -> prerender.Ahead:
    """The run's side of the worker, holding these pages as if the worker had sent them."""
    ahead = object.__new__(prerender.Ahead)
    ahead.shared, ahead.conn, ahead.results, ahead.taken = mmap.mmap(-1, 16), None, results, 0
    return ahead


def test_a_page_is_taken_on_its_json_stat_only_once_the_json_had_settled(tmp_path: Path) -> None:
    """On a file system whose timestamps are coarse, a same-size rewrite of the JSON can keep its
    stat: the worker's page is then taken on the stat alone only if the JSON had been left alone
    for SETTLED_NS when the worker read it, and on its content otherwise."""
    doc = tmp_path / "01001.json"
    doc.write_bytes(b'{"nom":"A"}')
    path, key, now = str(doc), stat_key(doc.stat()), time.time_ns()
    md5 = get_file_md5(path)
    assert not prerender.settled(doc.stat(), now) and prerender.settled(doc.stat(), now + 3_000_000_000)

    other = "0" * 32  # the md5 of what the worker read, were it another content than the file's
    assert _without_worker({5: (b"page", key, other, False)}).take(5, path) is None
    assert _without_worker({5: (b"page", key, md5, False)}).take(5, path) == b"page"
    assert KNOWN_MD5[path] == (key, md5)
    assert _without_worker({5: (b"page", key, other, True)}).take(5, path) == b"page"
    assert KNOWN_MD5[path] == (key, other)  # settled: the stat is trusted, the file not read
    KNOWN_MD5.pop(path)


def test_a_release_sparse_in_its_pages_starts_no_worker(copy: Paths) -> None:
    """Nor does it list the pages in full (0.1-0.2 s at France scale): only their positions."""
    pages = _pages(copy)
    places, _ = _plan(pages)
    prerender.plan(places, lambda: pytest.fail("the full list of pages was made"), copy.build / "x", copy)
    for page in pages[::3]:  # one page in three: not a run of pages
        render.render_place(copy, page.level, page.code)
    assert prerender.RUN.ahead is None


def test_a_sparse_run_computes_ahead_the_pages_its_hint_names(
    copy: Paths, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A release's pages, one in three: once the run has rendered START_AFTER of them, a worker
    judges and renders the hinted ones, doit's records deciding (a hinted page that is up to date
    is left alone, an out-of-date one the hint misses is its task's), and every page holds the
    bytes its task alone renders."""
    monkeypatch.setattr(prerender, "MIN_HINTED", 10)
    pages = _pages(copy)
    stale = pages[::3]
    assert len(stale) > prerender.START_AFTER + 30
    for page in stale:
        Path(page.target).unlink()
    hint = [(p.level, p.code) for p in stale[:-5] + pages[1::3]]  # five stale pages left out
    places_, pages_ = _plan(pages)
    prerender.plan(places_, pages_, copy.doit_db, copy, lambda: hint)
    waited = False
    for n, page in enumerate(stale):
        ahead = prerender.RUN.ahead
        if n < prerender.START_AFTER:
            assert ahead is None, "no worker before START_AFTER pages"
        elif not waited:  # the worker's start takes a while: wait for its first page
            assert ahead is not None, "the hint starts a worker"
            for _ in range(300):
                if ahead.results:
                    break
                ahead._receive(0.1)
            waited = True
        assert render.render_place(copy, page.level, page.code)
    ahead = prerender.RUN.ahead
    assert ahead is not None and ahead.taken > 0, "the worker's pages were taken"
    for page in pages:
        raw = places.json_path(copy, page.level, page.code).read_bytes()
        assert Path(page.target).read_bytes() == render.page_html(copy, page.level, page.code, raw), page
    ahead.close()


def test_a_sparse_run_without_enough_hinted_pages_starts_no_worker(
    copy: Paths, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nor does it list the pages in full; the hint is read once."""
    pages = _pages(copy)
    places_, _ = _plan(pages)
    read = []
    hint = [(p.level, p.code) for p in pages[::3]]
    monkeypatch.setattr(prerender, "MIN_HINTED", len(hint))  # more than are left after START_AFTER

    def once() -> list[tuple[str, str]]:
        read.append(1)
        return hint

    prerender.plan(places_, lambda: pytest.fail("the full list of pages was made"), copy.doit_db, copy, once)
    for page in pages[::3]:
        render.render_place(copy, page.level, page.code)
    assert prerender.RUN.ahead is None and read == [1]


# doit, with a worker for any number of hinted pages after 8 pages, saying how many it was given.
DOIT_SAYING_ITS_HINT = """
import atexit, sys
from rules import prerender
prerender.MIN_HINTED, prerender.MIN_PAGES, prerender.START_AFTER = 0, 0, 8
prerender.RUN = prerender._Run()
given = []
to_come = prerender._to_come
def recorded(i):
    ahead = to_come(i)
    if ahead is not None:
        given.append(len(ahead[1]))
    return ahead
prerender._to_come = recorded
atexit.register(lambda: print("worker given", *given, file=sys.stderr))
from doit.__main__ import main
main()
"""


def test_a_release_through_doit_hands_its_rewritten_pages_to_the_worker(tmp_path: Path) -> None:
    """Every 2020 price of the Ain sample raised by one euro: a few pages in every ten re-render.
    doit is given those (rules/settled.py leaves the others out), the worker computes them ahead
    once the run has rendered a few, and every page holds the bytes its task alone renders."""
    paths = Paths.of(tmp_path / "build", tmp_path / "site")
    source = make_source(tmp_path / "source")
    run_doit(paths, "departements=01", f"source={source}")
    raw = source / RAW_2020.name
    lines = raw.read_text("utf-8").splitlines()
    fields = [line.split("|") for line in lines[1:]]
    for f in fields:
        euros, cents = f[10].split(",")
        f[10] = f"{int(euros) + 1},{cents}"
    raw.write_text("\n".join([lines[0], *("|".join(f) for f in fields)]) + "\n", encoding="utf-8")
    cmd = [sys.executable, "-c", DOIT_SAYING_ITS_HINT, "-f", str(ROOT / "dodo.py"), "departements=01"]
    cmd += [
        f"source={source}",
        f"repo={tmp_path / 'no-repo'}",
        f"build_dir={paths.build}",
        f"site_dir={paths.site}",
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr
    rendered = int(proc.stdout.split("render: ")[1].split()[0])
    given = [int(n) for n in proc.stderr.split("worker given")[1].split()]
    assert rendered > 8 and len(given) == 1 and 0 < given[0] < rendered, proc
    for level, code in places.all_places(frozenset({"01"})):
        page = Path(render.page_file(paths, level, code))
        raw_json = places.json_path(paths, level, code).read_bytes()
        assert page.read_bytes() == render.page_html(paths, level, code, raw_json), page


def test_the_hint_is_what_this_runs_statistics_pass_rewrote(tmp_path: Path) -> None:
    changes = tmp_path / "changes.json"
    assert prerender.rewritten_since(changes, 0) == []  # no statistics pass yet
    changes.write_bytes(b'{"changed": {"commune": ["01001", "01002"], "departement": ["01"], "region": []}}')
    assert prerender.rewritten_since(changes, 0) == [
        ("commune", "01001"),
        ("commune", "01002"),
        ("departement", "01"),
    ]
    assert prerender.rewritten_since(changes, time.time() + 60) == []  # an earlier run's: no hint
    changes.write_bytes(b"{")
    assert prerender.rewritten_since(changes, 0) == []


def test_out_of_date_is_doits_own_judgement(tmp_path: Path) -> None:
    """After a build, pages made stale each way doit knows (content, size, missing target, a
    touched file with the same bytes, the fingerprint) are judged as doit's Dependency judges them."""
    paths = Paths.of(tmp_path / "build", tmp_path / "site")
    run_doit(paths, "departements=01", f"source={make_source(tmp_path / 'source')}")
    pages = _pages(paths)
    json_of = {p.code: Path(p.deps[0]) for p in pages}
    a, b, c, d = (p.code for p in pages[:4])
    json_of[a].write_bytes(json_of[a].read_bytes().replace(b'"nom":"', b'"nom":"Y', 1))  # size
    text = json_of[b].read_bytes()
    json_of[b].write_bytes(text.replace(b'"nom":"', b'"mon":"', 1))  # same size, new bytes
    os.utime(json_of[c], (1, 1))  # same bytes, another mtime
    Path(pages[3].target).unlink()
    manager = Dependency(SqliteDB, str(paths.doit_db), checker_cls=MD5Checker)
    records = prerender._records(str(paths.doit_db))

    def judged() -> dict[str, tuple[bool, bool]]:
        out = {}
        for page in pages:
            task = Task(page.name, None, file_dep=list(page.deps), targets=[page.target])
            out[page.code] = (
                manager.get_status(task, {}).status == "run",
                prerender.out_of_date(page, records[page.name]),
            )
        return out

    verdicts = judged()
    assert all(doit == ours for doit, ours in verdicts.values()), verdicts
    assert {code for code, (doit, _) in verdicts.items() if doit} == {a, b, d}
    fingerprint = Path(pages[0].deps[1])
    fingerprint.write_bytes(fingerprint.read_bytes()[::-1])
    verdicts = judged()
    assert all(doit and ours for doit, ours in verdicts.values())
    assert prerender.out_of_date(pages[4], None)  # never built
    manager.close()


KILLED = """
import os, signal, sys, time
sys.path.insert(0, {root!r})
from pathlib import Path
from rules import prerender, render
from rules.paths import Paths
from tests.test_prerender import _pages, _plan
paths = Paths.of(Path({build!r}), Path({site!r}))
pages = _pages(paths)
prerender.plan(*_plan(pages), paths.build / "no-record.sqlite3", paths)
prerender.MIN_PAGES = 0
for n, page in enumerate(pages):
    render.render_place(paths, page.level, page.code)
    ahead = prerender.RUN.ahead
    if ahead is not None and n == prerender.START_AFTER + 20:
        print(ahead.proc.pid, flush=True)
        if {kill_worker}:
            os.kill(ahead.proc.pid, signal.SIGKILL)
        else:
            for _ in range(300):  # the run reads what the worker sends until the window is full
                if len(ahead.results) == prerender.WINDOW:
                    break
                ahead._receive(0.1)
            assert len(ahead.results) == prerender.WINDOW  # the worker waits, sending nothing
            os.kill(os.getpid(), signal.SIGKILL)
print("done", ahead.taken, flush=True)
"""


def _gone(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] in "ZX"
    except FileNotFoundError:
        return True


@pytest.mark.parametrize("kill_worker", [True, False], ids=["worker killed", "run killed"])
def test_a_killed_worker_or_run_leaves_no_wait_and_no_orphan(copy: Paths, kill_worker: bool) -> None:
    """SIGKILL to the worker: the run carries on alone and every page is right. SIGKILL to the
    run: the worker goes with it."""
    pages = _pages(copy)
    for page in pages:
        Path(page.target).unlink()
    script = KILLED.format(
        root=str(ROOT), build=str(copy.build), site=str(copy.site), kill_worker=kill_worker
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    worker = int(proc.stdout.split()[0])
    if kill_worker:
        assert proc.returncode == 0 and proc.stdout.split()[1] == "done", proc.stderr
        for page in pages:
            raw = places.json_path(copy, page.level, page.code).read_bytes()
            assert Path(page.target).read_bytes() == render.page_html(copy, page.level, page.code, raw)
    else:
        assert proc.returncode == -signal.SIGKILL, proc.stderr
    for _ in range(100):
        if _gone(worker):
            break
        time.sleep(0.05)
    assert _gone(worker), "the worker outlived the run"


DOIT_WITH_A_WORKER = (
    "import sys; from rules import prerender; prerender.MIN_PAGES = 0; from doit.__main__ import main; main()"
)


def test_ctrl_c_at_any_moment_of_a_full_render_is_one_line(tmp_path: Path) -> None:
    """SIGINT to doit's whole process group (a terminal's Ctrl-C) at six moments of a run that
    renders every commune page with a worker: most of such a run is doit's own code (checking,
    dispatching, recording tasks), not a task's action. Each time: one line, no traceback, no
    worker left; and the next doit ends with the pages of an uninterrupted run."""
    paths = Paths.of(tmp_path / "build", tmp_path / "site")
    args = ["departements=01", f"source={make_source(tmp_path / 'source')}", f"repo={tmp_path / 'no-repo'}"]
    run_doit(paths, *args)
    folder = paths.site / "ville"
    shutil.rmtree(folder)
    start = time.monotonic()
    run_doit(paths, *args)  # the uninterrupted run, and how long it lasts
    length = time.monotonic() - start
    pages = {p.name: p.read_bytes() for p in folder.rglob("*.html")}
    cmd = [sys.executable, "-c", DOIT_WITH_A_WORKER, "-f", str(ROOT / "dodo.py"), *args]
    cmd += [f"build_dir={paths.build}", f"site_dir={paths.site}"]
    env = doit_env()
    interrupted, workers = 0, set()
    for share in (0.1, 0.25, 0.4, 0.55, 0.7, 0.85):
        shutil.rmtree(folder, ignore_errors=True)
        doit = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while f"pid {doit.pid}:" not in _text(paths.build / "lock"):  # dodo.py is loading
            assert doit.poll() is None and time.monotonic() < deadline, doit.communicate()
            time.sleep(0.005)
        signal_at = time.monotonic() + share * length
        while time.monotonic() < signal_at:
            workers.update(p for p in _children(doit.pid))
            time.sleep(0.01)
        os.killpg(doit.pid, signal.SIGINT)
        out, err = doit.communicate(timeout=60)
        if not err.strip():  # it ended first (at worst killed on its way out): nothing left to do
            assert not run_doit(paths, *args).stdout.strip(), (doit.returncode, out)
            continue
        interrupted += 1
        # Ended as interrupted, wherever the Ctrl-C landed.
        assert doit.returncode == -signal.SIGINT, (err, out)
        assert [ln for ln in err.splitlines() if ln.strip()] == [f"error: {INTERRUPTED}"], err
    assert interrupted >= 3 and workers
    for _ in range(100):
        if all(_gone(w) for w in workers):
            break
        time.sleep(0.05)
    assert all(_gone(w) for w in workers), "a worker outlived its run"
    run_doit(paths, *args)
    assert {p.name: p.read_bytes() for p in folder.rglob("*.html")} == pages


def _children(parent: int) -> list[int]:
    """The workers of `parent` (its children running rules.prerender)."""
    return [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit() and _child_of(p, parent)]


def _text(path: Path) -> str:
    try:
        return path.read_text("utf-8")
    except OSError:
        return ""


def _child_of(proc: Path, parent: int) -> bool:
    """A worker of `parent`'s (its child running rules.prerender)."""
    try:
        ppid = int((proc / "stat").read_text().rsplit(") ", 1)[1].split()[1])
        return ppid == parent and b"rules.prerender" in (proc / "cmdline").read_bytes()
    except (OSError, IndexError, ValueError):
        return False
