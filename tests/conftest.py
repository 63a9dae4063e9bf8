"""Shared fixtures: real DuckDB files and real `doit` runs in temporary folders."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import duckdb
import pytest

from rules.paths import ROOT, Paths

# The suite runs `doit` some 250 times: let Python keep the compiled modules it would otherwise
# recompile at every start (some machines set PYTHONDONTWRITEBYTECODE), as a user's machine does.
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)


def _temp_in_memory(shm: Path = Path("/dev/shm"), room: int = 4 << 30) -> None:
    """Put the run's temporary folders (pytest's, and those of every `doit` it starts) in memory
    when the machine has a tmpfs with room to spare: the suite writes about 1 GB in some 250 real
    builds, stores and repositories, and on a disk under I/O pressure it spent a fifth of its time
    waiting on DuckDB's and git's writes (249 s against 197 s, the same tests). A TMPDIR the caller
    chose is kept; a small /dev/shm (64 MB in a default Docker container) is not used. The workers
    of pytest-xdist inherit the setting, since this module is loaded before they start."""
    if "TMPDIR" in os.environ:
        return
    try:
        free = os.statvfs(shm)
    except OSError:
        return
    if free.f_bavail * free.f_frsize < room or not os.access(shm, os.W_OK | os.X_OK):
        return
    folder = shm / f"immostats-tests-{os.getuid()}"
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
    except OSError:
        return
    info = folder.lstat()
    if folder.is_symlink() or info.st_uid != os.getuid() or info.st_mode & 0o077:
        return  # not this user's own private folder: leave the default
    os.environ["TMPDIR"] = str(folder)
    tempfile.tempdir = None  # computed again from TMPDIR


_temp_in_memory()

DATA = ROOT / "tests" / "data"
SAMPLE = DATA / "sample"
RAW_2020 = SAMPLE / "valeursfoncieres-2020_head_dep01.txt"
RAW_2021 = SAMPLE / "valeursfoncieres-2021-s1_head40_dep01.txt"
GEO_2021 = DATA / "dvf" / "geo-dvf-2021_head40_dep01.csv"
CEREMA = DATA / "dvf" / "cerema_MASKED_ayants-droits_dep59_2500rows.txt"


# The samples' Ain (few sales: pages without figures), Hendaye in the Pyrénées-Atlantiques (every
# figure published), Paris for a city, Mayotte for a place DVF lacks.
SCOPE = "departements=01,64,75,976"
HENDAYE = sorted(SAMPLE.glob("geo-dvf-*-hendaye-64260.csv"))
PARIS_ROWS = [
    f"|||||||000001|0{day}/01/2021|Vente|{price},00|{day}||RUE|0001|DE RIVOLI|7500{arr}|"
    f"PARIS 0{arr}|75|10{arr}||AB|{day}||||||||||||1|2|Appartement||{surface}|1|||"
    for day, price, surface, arr in [
        (5, 300000, 30, 1),
        (6, 400000, 40, 1),
        (7, 500000, 50, 1),
        (8, 160000, 20, 2),
        (9, 240000, 30, 2),
    ]
]


def raw_file(path: Path, lines: list[str]) -> Path:
    """A DVF file in the raw DGFiP format: the real header, then `lines`."""
    header = RAW_2021.read_text("utf-8").splitlines()[0]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    return path


def replace_keeping_times(path: Path, data: bytes, like: os.stat_result) -> None:
    """Another file (a new inode) with these bytes, and the times of `like`, renamed over `path`:
    as the build replaces a file, but with nothing in its size or mtime to tell."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.utime(tmp, ns=(like.st_atime_ns, like.st_mtime_ns))
    os.replace(tmp, path)


def make_source(folder: Path, hendaye: bool = False) -> Path:
    """The real Ain samples plus a few Paris rows (and Hendaye's five years), as a source folder."""
    folder.mkdir(parents=True, exist_ok=True)
    for path in [RAW_2020, RAW_2021, *(HENDAYE if hendaye else [])]:
        shutil.copy(path, folder)
    raw_file(folder / "paris-2021.txt", PARIS_ROWS)
    return folder


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Paths:
    """One site built by the real `doit` for the whole run, shared by the xdist workers (the first
    one builds it under a lock, the others wait for it); tests only read it."""
    if worker_id == "master":  # no xdist: this session's own folder
        return _build_site(tmp_path_factory.mktemp("site"))
    shared = tmp_path_factory.getbasetemp().parent  # this run's, common to its workers
    with open(shared / "site.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        tmp = shared / "site"
        if not (tmp / "done").exists():
            shutil.rmtree(tmp, ignore_errors=True)
            _build_site(tmp)
            (tmp / "done").touch()
    return Paths.of(tmp / "build", tmp / "site")


def _build_site(tmp: Path) -> Paths:
    paths = Paths.of(tmp / "build", tmp / "site")
    run_doit(paths, SCOPE, f"source={make_source(tmp / 'source', hendaye=True)}")
    return paths


def pytest_report_header(config: pytest.Config) -> str:
    import doit
    import jinja2

    doit_version = ".".join(map(str, doit.__version__))
    return f"duckdb {duckdb.__version__}, doit {doit_version}, jinja2 {jinja2.__version__}"


@pytest.fixture
def paths(tmp_path: Path) -> Paths:
    return Paths.of(tmp_path / "build", tmp_path / "site")


def doit_env(**extra: str) -> dict[str, str]:
    """The environment a test's `doit` runs in: this one without the `IMMOSTATS_*` settings a
    developer may have set (a test says its settings on the command line), plus `extra`."""
    return {k: v for k, v in os.environ.items() if not k.startswith("IMMOSTATS_")} | extra


def run_doit(
    paths: Paths, *args: str, check: bool = True, env: dict | None = None
) -> subprocess.CompletedProcess:
    """Run the real `doit` on the project's dodo.py, pointed at `paths` (extra environment in `env`).

    Without `repo=`, the build sees no git repository: a developer's own published history in
    the project's repository never leaks into a test's store."""
    isolated = [] if any(a.startswith("repo=") for a in args) else [f"repo={paths.build.parent / 'no-repo'}"]
    cmd = [
        sys.executable,
        "-m",
        "doit",
        "-f",
        str(ROOT / "dodo.py"),
        *args,
        *isolated,
        f"build_dir={paths.build}",
        f"site_dir={paths.site}",
    ]
    proc = subprocess.run(
        cmd, capture_output=True, text=True, cwd=ROOT, timeout=600, env=doit_env(**(env or {}))
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"doit {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
        )
    return proc


def tables(db: Path) -> dict[str, list[tuple]]:
    """Every row of the store's data tables, sorted: equal dicts mean equal databases."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        names = [r[0] for r in con.execute("select table_name from duckdb_tables() order by 1").fetchall()]
        out = {}
        for name in names:
            if name == "update_log":
                continue
            rows = con.execute(f"select * from {name}").fetchall()
            out[name] = sorted(rows, key=repr)
        return out
    finally:
        con.close()


IMPORT_TABLES = {  # what an import writes, each as compared (update_log but its times)
    "dvf_rows": "{db}.dvf_rows",
    "cut_parts": "{db}.cut_parts",
    "part_digests": "{db}.part_digests",
    "update_log": "(select * exclude (started, completed) from {db}.update_log)",
    "import_periods": "{db}.import_periods",
}
SAME_IMPORTS: dict[str, list[tuple]] = {name: [] for name in IMPORT_TABLES}


def import_differences(one: Path, other: Path) -> dict[str, list[tuple]]:
    """What imports wrote that differs between two stores, table by table: rows of either missing
    from the other, as multisets (SAME_IMPORTS when none). Compared in DuckDB: fetched into Python,
    a department's rows cost seconds."""
    con = duckdb.connect()
    try:
        con.execute(f"attach '{one}' as one (read_only); attach '{other}' as other (read_only)")
        out = {}
        for name, table in IMPORT_TABLES.items():
            a, b = table.format(db="one"), table.format(db="other")
            out[name] = con.execute(
                f"(from {a} except all from {b}) union all (from {b} except all from {a})"
            ).fetchmany(5)
        return out
    finally:
        con.close()


def query(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


class QuietHandler(BaseHTTPRequestHandler):
    """The stand-ins' request handler: logs nothing, answers a request in one call."""

    def log_message(self, *args: object) -> None:
        pass

    def reply(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in {"Content-Length": str(len(body)), **(headers or {})}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


class LocalServer:
    """A real HTTP server on 127.0.0.1 (a free port), serving `handler` from a thread: the
    stand-ins for data.gouv.fr, Cloudflare, Slack and the host are built on it."""

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


# The longest tests, measured (15-30 s each; all of France first): started first, so that no worker
# is left running one alone at the end while the other idles (the suite went from 170 s to about
# 140 s on 2 cores).
LONGEST = (
    "test_all_of_france_then_a_second_run_does_nothing_and_prints_nothing",
    "test_incremental_statistics_equal_a_pass_from_scratch",
    "test_publish_killed_at_every_step_then_run_again",
    "test_five_weeks_on_fresh_runners",
    "test_a_fresh_runner_reads_only_the_changed_files_even_after_a_failed_push",
    "test_bad_input_through_doit_publish_changes_nothing",
    "test_benchmark_runs_end_to_end_at_a_small_scale",
    "test_rollback_killed_at_every_step_then_run_again",
    "test_retention_keeps_the_last_versions_and_the_history_they_need",
    "test_ctrl_c_during_an_import_is_one_line_and_loses_nothing",
    "test_following_releases_end_to_end",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        name = getattr(item, "originalname", item.name)
        return LONGEST.index(name) if name in LONGEST else len(LONGEST)

    items.sort(key=rank)  # stable: the rest keep their order
