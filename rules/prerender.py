"""Pages computed ahead on the machine's other core while doit walks the page tasks in order.

doit runs one task at a time here. Its own multiprocess runner would run the import and the
statistics in workers too, and neither Ctrl-C nor a killed worker would end cleanly (issue 14's
note). So doit still runs every page task itself, in its order, and each task still writes its
page; a worker process only computes pages ahead of it. The worker picks the pages doit will find
out of date by doit's own rule, read from doit's sqlite3 records (the same checker, file list,
target and content checks), renders them in doit's order and hands the bytes over; a page's task
takes them when doit reaches it, once it has checked that the page's JSON is the file the worker
read, unchanged since: its inode, device, size, mtime and ctime, when the file had been left alone
for `SETTLED_NS` before the worker read it (`settled`), else its content; the worker's md5 of it is
what doit records. A page the worker skipped, misjudged, failed on or did not reach yet is
rendered by its own task as before: the worker changes when a page is computed, never a byte of
the site.

The worker writes nothing under site/ (the map shapes it may add to build/ are written
atomically); it runs in its own process group, so Ctrl-C reaches the run alone, which reports it;
it dies with the run (PR_SET_PDEATHSIG) and holds none of the run's files (the build lock stays
the run's); its output goes nowhere. A worker that dies is noticed within a second and the run
carries on alone. It starts once a run has rendered `START_AFTER` pages in a row, or nearly,
with at least `MIN_PAGES` to come: a single page and a small site (the README's 945 pages) never
pay for it. doit is given only the pages it would not skip (rules/settled.py), so a release's run
(1,363 pages of 35,000) is dense too. Where the settled pages could not be left out, a release's
pages are a few in every hundred, which a worker judging every page it passes would not get
ahead of; so when the run's first `START_AFTER` pages are sparse, the worker is given the pages
this run's statistics pass rewrote the JSON of (`hint`, build/changes.json), if `MIN_HINTED` of
them are still to come, and judges and renders those only, while doit walks the 35,000 tasks. A
page the hint misses is rendered by its task; one it names that is up to date is judged so and
left alone.

The two share two integers in memory: FLOOR, the last page the run has reached (the worker
leaves it and all before it alone), and BUSY, the page the worker is rendering. The run waits
only for BUSY, and the worker sends a message for every page it marks BUSY before it marks
another, so neither can wait for the other for ever; at worst both render a page once.
"""

from __future__ import annotations

import atexit
import bisect
import collections
import contextlib
import hashlib
import mmap
import os
import pickle
import signal
import sqlite3
import struct
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from multiprocessing.connection import Connection
from pathlib import Path
from typing import NamedTuple

import orjson
from doit.dependency import get_file_md5

from rules import lifetime
from rules.files import KNOWN_MD5, StatKey, read_task_input, read_with_stat, stat_key
from rules.paths import ROOT, Paths

START_AFTER = 32  # page tasks a run has executed before it starts the worker
MIN_PAGES = (
    1_000  # pages still to come: the worker's start (Python, Jinja, its templates) costs ~1 s of a core
)
MIN_HINTED = 200  # a sparse run's hinted pages to come: 2-3 ms each, against 0.1-0.2 s for the pages' list
WINDOW = 64  # pages the worker may hold ahead of the run: bounded memory (the largest is ~0.5 MB)
JUMP = 8  # how far ahead of the run the worker goes on when the run catches up
WAIT = 1.0  # seconds between two checks that the worker being waited for is still at it
SETTLED_NS = 2_000_000_000  # coarser than any file system's timestamps here (FAT's are 2 s)
FLOOR, BUSY = 0, 8  # offsets of the two shared integers
END = 1 << 62  # a FLOOR beyond every page: the worker stops


class Page(NamedTuple):
    """A page task as doit holds it: its name, what it renders, its file_dep and its target."""

    name: str
    level: str
    code: str
    deps: tuple[str, ...]
    target: str


Pages = list[Page] | dict[int, Page]  # every page of the run, or the hinted ones by position


def settled(stat: os.stat_result, read_at_ns: int) -> bool:
    """Whether a file read at `read_at_ns` (time.time_ns()) had been left alone for SETTLED_NS:
    then any later change, even of the same size in a reused inode, gives it a later ctime (which
    no one can set back), however coarse the file system's timestamps. A statistics pass writes the
    JSON files just before the pages: the first pages of a full render, and a release's, are not
    settled, and their task compares the JSON's content with what the worker read."""
    return stat.st_ctime_ns < read_at_ns - SETTLED_NS


def _get(shared: mmap.mmap, at: int) -> int:
    return int(struct.unpack_from("<q", shared, at)[0])


def _set(shared: mmap.mmap, at: int, value: int) -> None:
    struct.pack_into("<q", shared, at, value)


class Ahead:
    """The run's side: the worker process, the pages it sent, and the memory both share."""

    def __init__(self, pages: Pages, todo: Sequence[int], start: int, doit_db: Path, paths: Paths) -> None:
        state_fd = os.memfd_create("immostats-prerender-state")
        os.ftruncate(state_fd, 16)
        self.shared = mmap.mmap(state_fd, 16)
        _set(self.shared, FLOOR, start - 1)
        _set(self.shared, BUSY, -1)
        setup_fd = os.memfd_create("immostats-prerender-setup")
        os.write(setup_fd, pickle.dumps((pages, todo, str(doit_db), paths, os.getpid())))
        os.lseek(setup_fd, 0, os.SEEK_SET)  # the worker reads it from the start
        receive, send = os.pipe()
        try:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    "from rules.prerender import main; main()",
                    *map(str, (state_fd, setup_fd, send)),
                ],
                pass_fds=(state_fd, setup_fd, send),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                cwd=ROOT,
                process_group=0,
            )
        except BaseException:
            os.close(receive)  # no worker: the run's end of the pipe goes too
            raise
        finally:
            for fd in (state_fd, setup_fd, send):
                os.close(fd)
        self.conn: Connection | None = Connection(receive, writable=False)
        self.results: dict[int, tuple[bytes, StatKey, str, bool] | None] = {}
        self.taken = 0  # pages the run took from the worker

    def take(self, i: int, json_file: str) -> bytes | None:
        """The page at `i` if the worker rendered it from `json_file` as it is now, else None (the
        task renders it). Waits only while the worker is rendering that very page."""
        _set(self.shared, FLOOR, max(_get(self.shared, FLOOR), i))  # the worker leaves it from now on
        self._receive(0)
        while i not in self.results and self.conn is not None and _get(self.shared, BUSY) == i:
            self._receive(WAIT)
        if i not in self.results:
            self._receive(0)  # BUSY moved on: what it sent for `i` is in the pipe already
        for passed in [k for k in self.results if k < i]:  # doit found these up to date after all
            del self.results[passed]
        got = self.results.pop(i, None)
        if got is None:
            return None
        html, read, md5, was_settled = got
        try:
            if stat_key(os.stat(json_file)) != read:
                return None
            if was_settled:  # doit records the JSON's md5 after the task: the worker's
                KNOWN_MD5[json_file] = (read, md5)
            else:  # read, its md5 kept for doit's record: the content's check
                read_task_input(json_file)
                if KNOWN_MD5[json_file][1] != md5:
                    return None
        except OSError:
            return None
        self.taken += 1
        return html

    def _receive(self, timeout: float) -> None:
        """Read what the worker has sent, waiting up to `timeout` for a first message."""
        while self.conn is not None:
            if not self.conn.poll(timeout):
                if timeout and self.proc.poll() is not None:
                    self.conn = None  # died: the run carries on alone
                return
            try:
                i, html, read, md5, was_settled = self.conn.recv()
            except (EOFError, OSError):  # the worker went past the last page, or died
                self.conn = None
                return
            self.results[i] = None if html is None else (html, read, md5, was_settled)
            timeout = 0

    def close(self) -> None:
        """Stop the worker, as the run exits (atexit), whether it ended or stopped. A Ctrl-C that
        lands here finds the run over, its records saved: the worker is killed, and the Ctrl-C
        ends nothing more (it was a KeyboardInterrupt "ignored in atexit callback", a traceback,
        and exit status 0, in about one run in three of the Ctrl-C test under load)."""
        _set(self.shared, FLOOR, END)
        if self.conn is not None:
            self.conn.close()  # a worker sending gets an error and ends
            self.conn = None
        try:
            try:
                self.proc.wait(0.1)  # it sees FLOOR within a page
            except subprocess.TimeoutExpired:
                self.proc.kill()  # starting, or reading doit's records: nothing of it to keep
                self.proc.wait()
        except KeyboardInterrupt:
            self.proc.kill()
            self.proc.wait()


class _Run:
    """This run's plan (set by dodo.py), its pages' positions in doit's order (made at the first
    page rendered), and the worker once started."""

    def __init__(self) -> None:
        self.places: Callable[[], list[tuple[str, str]]] | None = None
        self.pages: Callable[[], list[Page]] | None = None
        self.hint: Callable[[], Iterable[tuple[str, str]]] | None = None  # read once, by a sparse run
        self.doit_db = Path()
        self.paths: Paths | None = None
        self.index: dict[tuple[str, str], int] | None = None
        self.recent: collections.deque[int] = collections.deque(maxlen=START_AFTER)  # pages rendered
        self.ahead: Ahead | None = None


RUN = _Run()


def plan(
    places: Callable[[], list[tuple[str, str]]],
    pages: Callable[[], list[Page]],
    doit_db: Path,
    paths: Paths,
    hint: Callable[[], Iterable[tuple[str, str]]] | None = None,
) -> None:
    """Declare this run's page tasks in the order doit runs them (dodo.py): `places` lists their
    (level, code), `pages` the same tasks in full, `hint` the places whose pages are likely out of
    date (see the module's docstring). None is called in a no-change run, and the full list (0.1-0.2
    s at France scale) only when the worker starts."""
    RUN.places, RUN.pages, RUN.doit_db, RUN.paths, RUN.hint = places, pages, doit_db, paths, hint


def rewritten_since(changes: Path, since: float) -> list[tuple[str, str]]:
    """The places whose JSON a statistics pass that ended after `since` (seconds since the epoch)
    rewrote, as its build/changes.json lists them: the hint of a release's run. Empty when no pass
    ran since (a run that only renders, a build/ restored from a cache)."""
    try:
        if changes.stat().st_mtime < since:
            return []
        changed = orjson.loads(changes.read_bytes())["changed"]
    except (OSError, ValueError, KeyError):
        return []
    return [(level, code) for level, codes in changed.items() for code in codes]


def take(level: str, code: str, json_file: str) -> bytes | None:
    """The page's bytes if the worker has them for this JSON, else None: its task renders it.
    Starts the worker once this run has rendered `START_AFTER` pages, if a second core is free."""
    if RUN.places is None or RUN.pages is None or RUN.paths is None:
        return None
    if RUN.index is None:
        RUN.index = {key: i for i, key in enumerate(RUN.places())}
    i = RUN.index.get((level, code))
    if i is None:
        return None
    if RUN.ahead is None:
        RUN.recent.append(i)
        ahead = _to_come(i)
        if ahead is None:
            return None
        try:
            RUN.ahead = Ahead(*ahead, i + 1, RUN.doit_db, RUN.paths)
        except OSError:  # no process or memory to spare: this run renders its pages alone
            RUN.places = None
            return None
        atexit.register(RUN.ahead.close)
        return None
    return RUN.ahead.take(i, json_file)


def _to_come(i: int) -> tuple[Pages, Sequence[int]] | None:
    """The pages a worker would go through after page `i`, and their positions; None when it should
    not start (yet): every page of a dense run, else once the pages of a sparse run are known to be
    sparse, the hinted ones, if there are enough of them to pay for the worker."""
    if RUN.index is None or RUN.pages is None or len(os.sched_getaffinity(0)) < 2:
        return None
    if _dense(RUN.recent):
        if len(RUN.index) - i - 1 < MIN_PAGES:
            return None
        return RUN.pages(), range(i + 1, len(RUN.index))
    if len(RUN.recent) < START_AFTER or RUN.hint is None:
        return None
    hint, RUN.hint = RUN.hint, None  # judged once a run
    todo = sorted(j for key in set(hint()) if (j := RUN.index.get(key)) is not None and j > i)
    if len(todo) < MIN_HINTED:
        return None
    pages = RUN.pages()
    return {j: pages[j] for j in todo}, todo


def _dense(recent: collections.deque[int]) -> bool:
    """The run has rendered START_AFTER pages, most of those it went through: a full render, a
    template or the window changed. A release's pages are a few in every hundred: the worker,
    which has to judge each page it passes, would not get ahead of doit (measured: it slowed a
    release's 1,363 pages from 1.9-2.1 s to 2.3-2.4 s)."""
    return len(recent) == START_AFTER and recent[-1] - recent[0] < 2 * START_AFTER


def main() -> None:
    """The worker (`python -c`, with the shared state, the setup and the pipe as descriptors)."""
    state_fd, setup_fd, send = map(int, sys.argv[1:4])
    with open(setup_fd, "rb") as f:
        pages, todo, doit_db, paths, parent = pickle.loads(f.read())
    if not lifetime.tie_to(parent):  # the run died before the worker got here
        return
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C sent to the run's group is the run's
    shared = mmap.mmap(state_fd, 16)
    with contextlib.suppress(OSError):  # the run closed its end: it is over
        _work(Connection(send, readable=False), shared, pages, todo, doit_db, paths)


def _work(
    conn: Connection, shared: mmap.mmap, pages: Pages, todo: Sequence[int], doit_db: str, paths: Paths
) -> None:
    """Render, in order, the pages of `todo` (positions in `pages`) doit will find out of date,
    beyond the run's, WINDOW at most ahead of what the run took."""
    from rules import places, render

    records = _records(doit_db)
    sent: list[int] = []
    k = 0
    while k < len(todo):
        i = todo[k]
        floor = _get(shared, FLOOR)
        if i <= floor + 1:  # the run is right behind: it renders the next few, the worker goes on
            k = bisect.bisect_left(todo, floor + JUMP, k)
            continue
        if not out_of_date(pages[i], records.get(pages[i].name)):
            k += 1
            continue
        sent = [j for j in sent if j > floor]
        if len(sent) >= WINDOW:
            time.sleep(0.002)  # the run has WINDOW pages of ours to take first
            continue
        _set(shared, BUSY, i)
        html: bytes | None = None
        read: StatKey | None = None
        md5, was_settled = "", False
        if i > _get(shared, FLOOR):  # the run has not reached it meanwhile
            with contextlib.suppress(Exception):  # its own task renders it, and says what is wrong
                level, code = pages[i].level, pages[i].code
                read_at = time.time_ns()
                raw, stat = read_with_stat(places.json_file(paths, level, code))
                html = render.page_html(paths, level, code, raw)
                read, md5, was_settled = stat_key(stat), hashlib.md5(raw).hexdigest(), settled(stat, read_at)
        conn.send((i, html, read, md5, was_settled))  # before BUSY moves on: the run may be waiting for it
        sent.append(i)
        k += 1
    conn.close()


def _records(doit_db: str) -> dict[str, dict]:
    """doit's records as it holds them at the start of the run (it writes them at its end)."""
    from rules.recordcodec import RecordCodec

    try:
        with contextlib.closing(sqlite3.connect(f"file:{doit_db}?mode=ro", uri=True)) as con:
            rows = con.execute("select task_id, task_data from doit").fetchall()
    except sqlite3.Error:  # no record yet: every page is out of date
        return {}
    codec = RecordCodec()  # the run's own (dodo.py's codec_cls), as in doitedge.preload_records
    return {task_id: codec.decode(data) for task_id, data in rows}


def out_of_date(page: Page, record: dict | None) -> bool:
    """doit's decision for a page task (doit.dependency.get_status with its MD5Checker): no
    record, another checker or file list, a missing target, a file_dep whose size, or content when
    its mtime moved, differs from the one recorded."""
    if record is None or record.get("checker:") != "MD5Checker":
        return True
    if set(record.get("deps:") or ()) != set(page.deps) or not os.path.exists(page.target):
        return True
    for dep in page.deps:
        state = record.get(dep)
        try:
            stat = os.stat(dep)
        except OSError:
            return True
        if state is None or stat.st_mtime != state[0]:
            if state is None or stat.st_size != state[1] or get_file_md5(dep) != state[2]:
                return True
    return False
