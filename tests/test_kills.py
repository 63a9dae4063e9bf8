"""Publish and rollback killed at every step (SIGKILL, and SIGINT once), then run again: the remote
ends exactly where an uninterrupted run leaves it. And a doit during a publish changes nothing.

The kills land at real boundaries: a stand-in for git on PATH (tests/data/bin/git) counts git
calls and kills its parent, the doit process, right after call number N. Cases are restored into
one fixed folder, because doit's records hold absolute paths."""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import orjson
import pytest
from conftest import PARIS_ROWS, RAW_2020, RAW_2021, doit_env, raw_file, run_doit, tables
from conftest import query as query_rows
from doit.exceptions import TaskFailed

from rules import doitedge, query, store, versions
from rules.doitedge import INTERRUPTED, guarded
from rules.paths import ROOT, Paths
from rules.settings import Settings

WRAPPER = ROOT / "tests" / "data" / "bin"
REAL_GIT = shutil.which("git")
VOLATILE = {"date", "build_time", "repository_bytes", "started_at"}


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True
    ).stdout.strip()


class Case:
    """A project with a bare remote, in a fixed folder: repo/, remote.git, build/, source/."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.repo, self.remote, self.source = root / "repo", root / "remote.git", root / "source"
        self.paths = Paths.of(root / "build", self.repo / "site")
        self.trace = root / "git-trace"

    def create(self) -> None:
        subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(self.remote)], check=True)
        subprocess.run(["git", "init", "-q", "-b", "main", str(self.repo)], check=True)
        (self.repo / ".gitignore").write_text("/site/\n/versions/version.json\n")
        git(self.repo, "add", "-A")
        git(self.repo, "-c", "user.email=t@example.org", "-c", "user.name=t", "commit", "-qm", "init")
        git(self.repo, "remote", "add", "origin", str(self.remote))
        git(self.repo, "push", "-q", "origin", "main")
        self.source.mkdir()
        self.write_source(300000)

    def write_source(self, price: int) -> None:
        raw_file(self.source / "paris-2021.txt", [r.replace("300000,00", f"{price},00") for r in PARIS_ROWS])

    def doit(self, *args: str, env: dict | None = None, check: bool = True) -> subprocess.CompletedProcess:
        common = (f"repo={self.repo}", "departements=75", f"source={self.source}", "push=1")
        return run_doit(self.paths, *args, *common, env=env, check=check)

    def killed(self, command: str, at: int, signal: str = "KILL") -> subprocess.CompletedProcess:
        self.trace.write_text("")
        env = self._env(KILL_AT=str(at), KILL_WHEN="after", KILL_SIGNAL=signal)
        proc = self.doit(command, env=env, check=False)
        assert proc.returncode != 0, f"{command} was not interrupted at git call {at}"
        time.sleep(0.2)  # a git the kill orphaned (a push) finishes on its own, as on a real runner
        return proc

    def traced(self, command: str) -> list[str]:
        self.trace.write_text("")
        self.doit(command, env=self._env())
        return self.trace.read_text().split()

    def _env(self, **extra: str) -> dict[str, str]:
        return {
            "PATH": f"{WRAPPER}:{os.environ['PATH']}",
            "REAL_GIT": REAL_GIT,
            "GIT_TRACE_FILE": str(self.trace),
            "GIT_PYTHON_GIT_EXECUTABLE": str(WRAPPER / "git"),
            **extra,
        }

    def remote_state(self) -> dict:
        """The remote's refs and what they hold, without the times a rerun cannot reproduce."""
        refs = dict(
            line.split(" ", 1)
            for line in git(self.remote, "for-each-ref", "--format=%(refname) %(objectname)").splitlines()
        )
        chain = git(self.remote, "rev-list", "--first-parent", "gh-pages").split()
        return {
            "refs": sorted(refs),
            "deploy chain": [_content(self.remote, c) for c in chain],
            "backups": {r: _content(self.remote, sha) for r, sha in refs.items() if "/backup/" in r},
            "history": git(self.remote, "rev-parse", "dvf-history^{tree}"),
            "record": _stable(orjson.loads(git(self.remote, "show", "gh-pages:version.json"))),
        }

    def assert_mirrored(self) -> None:
        for ref in git(self.remote, "for-each-ref", "--format=%(refname)").split():
            assert git(self.repo, "rev-parse", ref) == git(self.remote, "rev-parse", ref), ref
        record = orjson.loads((self.repo / "versions" / "version.json").read_bytes())
        assert record == orjson.loads(git(self.remote, "show", "gh-pages:version.json"))


def _content(repo: Path, commit: str) -> str:
    listing = git(repo, "ls-tree", "-r", commit).splitlines()
    kept = [line for line in listing if line.split("\t")[1] not in versions.DEPLOY_FILES]
    return hashlib.sha256("\n".join(kept).encode()).hexdigest()[:16]


def _stable(doc: object) -> object:
    if isinstance(doc, dict):
        return {k: _stable(v) for k, v in doc.items() if k not in VOLATILE}
    if isinstance(doc, list):
        return [_stable(v) for v in doc]
    return doc


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory):
    """Templates restored into one fixed folder: one version online and a new build ready to go
    (`ready`), then two versions online (`published`)."""
    tmp = tmp_path_factory.mktemp("kills")
    case = Case(tmp / "case")
    case.create()
    case.doit("publish")
    case.write_source(310000)
    case.doit()  # built, not published: what `doit publish` will put online
    ready = tmp / "ready"
    shutil.copytree(case.root, ready, symlinks=True)
    trace = case.traced("publish")
    published_state = case.remote_state()
    published = tmp / "published"
    shutil.copytree(case.root, published, symlinks=True)
    v1 = versions.list_versions(versions.Publishing(repo=case.repo))[0]
    rollback_trace = case.traced(f"rollback:{v1}")
    rolled_back_state = case.remote_state()

    def restore(template: Path) -> Case:
        shutil.rmtree(case.root)
        shutil.copytree(template, case.root, symlinks=True)
        return case

    return {
        "restore": restore,
        "ready": ready,
        "published": published,
        "publish": (trace, published_state),
        "rollback": (rollback_trace, rolled_back_state, v1),
    }


# The git commands after which a kill leaves a different state: the remote mirrored (fetch, update-ref),
# the private index and objects written (add, write-tree), commits made (commit-tree), the remote
# moved (push). read-tree, update-index and hash-object only add objects too: the same state as
# write-tree and commit-tree around them.
WRITES = {"fetch", "update-ref", "add", "write-tree", "commit-tree", "push"}


def _kill_points(trace: list[str]) -> list[int]:
    """The steps: right after the first call of each of WRITES, and after the very last call. A
    kill after a read leaves the state a kill before the next write does."""
    firsts = {sub: i + 1 for i, sub in reversed(list(enumerate(trace))) if sub in WRITES}
    return sorted({*firsts.values(), len(trace)})


def test_publish_killed_at_every_step_then_run_again(lab) -> None:
    trace, expected = lab["publish"]
    assert {"fetch", "write-tree", "commit-tree", "push", "update-ref"} <= set(trace)
    done = []
    for at in _kill_points(trace):
        case = lab["restore"](lab["ready"])
        case.killed("publish", at)
        case.doit("publish")
        assert case.remote_state() == expected, f"killed after git call {at} ({trace[at - 1]})"
        case.assert_mirrored()
        if trace[at - 1] == "push" or at == len(trace):  # and then there is nothing left to do
            assert case.doit("publish").stdout.endswith("is identical to this build\n")
        done.append(trace[at - 1])
    assert "push" in done


def test_publish_interrupted_with_ctrl_c_at_the_push(lab) -> None:
    trace, expected = lab["publish"]
    case = lab["restore"](lab["ready"])
    proc = case.killed("publish", trace.index("push") + 1, signal="INT")
    assert proc.stderr.strip().splitlines() == [f"error: {INTERRUPTED}"]
    assert proc.returncode == -signal.SIGINT  # ended as interrupted, as README says, not as failed
    case.doit("publish")
    assert case.remote_state() == expected
    case.assert_mirrored()


def test_rollback_killed_at_every_step_then_run_again(lab) -> None:
    trace, expected, v1 = lab["rollback"]
    assert {"fetch", "commit-tree", "push"} <= set(trace)
    for at in _kill_points(trace):
        case = lab["restore"](lab["published"])
        case.killed(f"rollback:{v1}", at)
        case.doit(f"rollback:{v1}")
        assert case.remote_state() == expected, f"killed after git call {at} ({trace[at - 1]})"
        case.assert_mirrored()


def test_a_doit_during_a_publish_cannot_change_what_is_published(lab) -> None:
    trace, expected = lab["publish"]
    case = lab["restore"](lab["ready"])
    resume = case.root / "resume"
    env = case._env(KILL_AT=str(trace.index("write-tree") + 1), KILL_WHEN="pause", RESUME_FILE=str(resume))
    case.trace.write_text("")
    common = (f"repo={case.repo}", "departements=75", f"source={case.source}", "push=1")
    cmd = [sys.executable, "-m", "doit", "-f", str(ROOT / "dodo.py"), "publish", *common]
    cmd += [f"build_dir={case.paths.build}", f"site_dir={case.paths.site}"]
    env = doit_env(**env)
    publishing = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 60
        while not Path(f"{resume}.waiting").exists():
            assert publishing.poll() is None and time.monotonic() < deadline, publishing.communicate()
            time.sleep(0.05)
        site = {p: p.read_bytes() for p in case.paths.site.rglob("*") if p.is_file()}
        case.write_source(999000)  # someone edits the data and builds while the publish runs
        for command in ((), ("publish",), ("rollback:previous",)):
            proc = case.doit(*command, check=False)
            assert proc.returncode == 2 and "another doit is running" in proc.stderr, proc.stderr
        assert {p: p.read_bytes() for p in case.paths.site.rglob("*") if p.is_file()} == site
    finally:
        resume.touch()
        out, err = publishing.communicate(timeout=120)
    assert publishing.returncode == 0, out + err
    assert case.remote_state() == expected  # what the gate saw is what went online


def test_ctrl_c_during_an_import_is_one_line_and_loses_nothing(tmp_path: Path) -> None:
    """SIGINT while a large file is being read: one line, a failed row, the store as it was, and
    build/tmp/ empty after the next run, which then imports the file in full."""
    paths = Paths.of(tmp_path / "build", tmp_path / "site")
    source = tmp_path / "source"
    source.mkdir()
    shutil.copy(RAW_2020, source / RAW_2020.name)
    run_doit(paths, "departements=01", f"source={source}")
    before = query_rows(paths.db, "select count(*) from dvf_rows")[0][0]
    header, *rows = RAW_2021.read_text("utf-8").splitlines()
    big = source / "valeursfoncieres-2021.txt.gz"
    big.write_bytes(gzip.compress(("\n".join([header, *rows * 4000]) + "\n").encode(), compresslevel=1))
    cmd = [sys.executable, "-m", "doit", "-f", str(ROOT / "dodo.py"), "departements=01", f"source={source}"]
    cmd += [f"build_dir={paths.build}", f"site_dir={paths.site}", f"repo={tmp_path / 'no-repo'}"]
    doit = subprocess.Popen(
        cmd, cwd=ROOT, env=doit_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 60
    while not list(paths.tmp.glob("*.txt")):  # the decompressed copy is being written
        assert doit.poll() is None and time.monotonic() < deadline, doit.communicate()
        time.sleep(0.01)
    doit.send_signal(signal.SIGINT)
    out, err = doit.communicate(timeout=60)
    assert doit.returncode == -signal.SIGINT and "Traceback" not in out + err, out + err
    assert [ln for ln in err.splitlines() if ln.strip()] == [f"error: {INTERRUPTED}"]
    assert query_rows(paths.db, "select count(*) from dvf_rows")[0][0] == before
    last = query_rows(paths.db, "select status, error from update_log order by batch_id desc limit 1")[0]
    assert last[0] == "failed" and "interrupted" in last[1]
    run_doit(paths, "departements=01", f"source={source}")
    assert query_rows(paths.db, "select count(*) from dvf_rows")[0][0] == before + 41 * 4000
    assert not [p for p in paths.tmp.rglob("*") if p.is_file()]


def _sigint_during_a_query(con: duckdb.DuckDBPyConnection) -> None:
    """A long query, and SIGINT to this process once it runs: DuckDB then raises
    RuntimeError("Query interrupted"), not KeyboardInterrupt."""
    threading.Timer(0.2, os.kill, [os.getpid(), signal.SIGINT]).start()
    con.execute("select count(*) from range(10000000000)").fetchall()  # seconds, if not interrupted


def test_ctrl_c_inside_a_duckdb_query_is_an_interruption_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SIGINT while DuckDB runs a query of the import: the batch is undone and recorded as
    interrupted (a failed row), as when it lands in Python; and a task action that meets it
    fails with the one line, not a traceback. Both were a bare RuntimeError."""
    # Python's own Ctrl-C handler, as in doit (a pytest-xdist worker ignores SIGINT).
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        _interrupted_import_and_action(tmp_path, monkeypatch)
    finally:
        signal.signal(signal.SIGINT, previous)
        doitedge._said.clear()  # this worker's record that a task reported a Ctrl-C


def _interrupted_import_and_action(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    paths = Paths.of(tmp_path / "build", tmp_path / "site")
    settings = Settings(departements="01")
    store.import_files(paths, [RAW_2020], settings, log=lambda _: None)
    before = tables(paths.db)
    run = query.run

    def interrupted_run(con, name, params=None):  # type: ignore[no-untyped-def]
        if name == "store_rows":
            _sigint_during_a_query(con)
        return run(con, name, params)

    monkeypatch.setattr(query, "run", interrupted_run)
    with pytest.raises(KeyboardInterrupt):
        store.import_files(paths, [RAW_2021], settings, log=lambda _: None)
    log = _last_log(paths)
    assert log[0] == "failed" and "interrupted" in log[1], log
    assert {k: v for k, v in tables(paths.db).items() if k != "update_log"} == before

    con = duckdb.connect()
    failed = guarded(lambda: _sigint_during_a_query(con))()
    assert isinstance(failed, TaskFailed) and str(failed.message) == INTERRUPTED
    with pytest.raises(RuntimeError, match="a bug"):
        guarded(lambda: (_ for _ in ()).throw(RuntimeError("a bug")))()


def _last_log(paths: Paths) -> tuple:
    return query_rows(paths.db, "select status, error from update_log order by batch_id desc limit 1")[0]
