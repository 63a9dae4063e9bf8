"""Publish and rollback on real git repositories (and bare remotes) in temporary folders."""

from __future__ import annotations

import fcntl
import io
import os
import re
import shutil
import subprocess
import tarfile
import time
import zlib
from pathlib import Path

import orjson
import pytest
from conftest import PARIS_ROWS, raw_file, run_doit
from test_ops import Stub

from rules import gitrepo, purge, versions
from rules.errors import ConfigError
from rules.paths import HISTORY_MANIFEST, Paths
from rules.publishing import Publishing

DEPLOY = set(versions.DEPLOY_FILES)  # written by publish for the version going online


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True
    ).stdout.strip()


def loose_object(repo: Path, spec: str) -> bytes:
    """The loose object file of `spec` (`rev:path`) as git wrote it: zlib's stream."""
    sha = git(repo, "rev-parse", spec)
    return (repo / ".git" / "objects" / sha[:2] / sha[2:]).read_bytes()


def files(site: Path) -> dict[str, bytes]:
    return {p.relative_to(site).as_posix(): p.read_bytes() for p in sorted(site.rglob("*")) if p.is_file()}


def tree_files(repo: Path, rev: str) -> dict[str, bytes]:
    data = subprocess.run(
        ["git", "-C", str(repo), "archive", "--format=tar", rev], capture_output=True, check=True
    )
    with tarfile.open(fileobj=io.BytesIO(data.stdout)) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}


def without_deploy_files(tree: dict[str, bytes]) -> dict[str, bytes]:
    return {k: v for k, v in tree.items() if k not in DEPLOY}


class Project:
    """A git repository with the site inside it (ignored on main), a DVF source folder (a few real-
    format Paris rows: a 24-page site keeps these tests quick) and, optionally, a bare remote
    `origin` that it pushes to."""

    def __init__(self, tmp: Path, remote: Path | None = None) -> None:
        self.repo, self.source = tmp / "repo", tmp / "source"
        self.repo.mkdir()
        self.source.mkdir()
        git(self.repo, "init", "-q", "-b", "main")
        (self.repo / ".gitignore").write_text("/site/\n/versions/version.json\n")
        (self.repo / "README").write_text("hello\n")
        git(self.repo, "add", "-A")
        git(self.repo, "-c", "user.email=t@example.org", "-c", "user.name=t", "commit", "-qm", "init")
        self.change_a_price(300000)
        self.paths = Paths.of(tmp / "build", self.repo / "site")
        self.args = [f"repo={self.repo}", "departements=75", f"source={self.source}"]
        if remote:
            git(self.repo, "remote", "add", "origin", str(remote))
            self.args += ["push=1"]

    def doit(self, *args: str, check: bool = True, env: dict | None = None) -> subprocess.CompletedProcess:
        return run_doit(self.paths, *self.args, *args, check=check, env=env)

    def change_a_price(self, price: int = 310000) -> None:
        """The first Paris sale (75101), at `price`."""
        rows = [PARIS_ROWS[0].replace("300000,00", f"{price},00"), *PARIS_ROWS[1:]]
        raw_file(self.source / "paris-2021.txt", rows)

    def record(self) -> dict:
        return orjson.loads((self.repo / "versions" / "version.json").read_bytes())

    def versions(self) -> list[str]:
        return versions.list_versions(Publishing(repo=self.repo))


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return Project(tmp_path)


def test_publish_change_publish_and_roll_back(project: Project) -> None:
    repo = project.repo
    (repo / "README").write_text("edited, not committed\n")  # the working tree's own changes
    (repo / "notes.txt").write_text("untracked\n")
    head, status = git(repo, "rev-parse", "HEAD"), git(repo, "status", "--porcelain")

    out = project.doit("publish").stdout
    (v1,) = project.versions()
    assert f"published {v1}:" in out and v1.endswith(".1") and "not pushed" in out
    assert "21 communes with new figures, 5 DVF rows added and 0 removed" in out  # all new online
    first = files(project.paths.site)
    online = tree_files(repo, f"backup/{v1}")
    assert DEPLOY <= online.keys()
    assert without_deploy_files(online) == without_deploy_files(first)  # exactly site/, plus the record
    assert git(repo, "rev-parse", "gh-pages") == git(repo, "rev-parse", f"backup/{v1}")
    assert orjson.loads(online["version.json"])["current"] == v1
    assert orjson.loads(online["api/health.json"])["version"] == v1  # health names the version online

    assert "nothing to publish" in project.doit("publish").stdout  # the same site: no new version
    assert project.versions() == [v1]
    # A history partition (Parquet, compressed already) is stored as it is in its loose object.
    (part,) = [
        p
        for p in git(repo, "ls-tree", "-r", "--name-only", "dvf-history").split()
        if p.endswith("75.parquet")
    ]
    stored = loose_object(repo, f"dvf-history:{part}")
    assert len(stored) > len(zlib.decompress(stored))  # level 0: stored blocks, no smaller than the data

    project.change_a_price()
    out = project.doit("publish").stdout
    v2 = v1[:-1] + "2"  # published twice the same day
    assert "2 communes with new figures, 1 DVF rows added and 1 removed" in out  # one price, replaced
    assert project.versions() == [v1, v2]
    second = files(project.paths.site)
    assert (
        without_deploy_files(tree_files(repo, "gh-pages"))
        == without_deploy_files(second)
        != (without_deploy_files(first))
    )
    assert git(repo, "rev-parse", "gh-pages^") == git(repo, "rev-parse", f"backup/{v1}")  # deploy history
    record = project.record()
    assert (record["current"], record["previous"]) == (v2, v1)
    changes = record["history"][0]["changes"]
    assert (changes["communes_changed"], changes["sales_added"], changes["sales_removed"]) == (2, 1, 1)
    html_changed = {
        k
        for k in first.keys() | second.keys()
        if k.endswith(".html") and k not in DEPLOY and first.get(k) != second.get(k)
    }
    assert record["history"][0]["changes"]["pages_changed"] == len(html_changed)
    message = git(repo, "log", "-1", "--format=%B", f"backup/{v2}")
    assert f"Source commit: {head}" in message and "Data manifest: sha256:" in message and "duckdb" in message
    assert f"History tree: {git(repo, 'rev-parse', 'dvf-history^{tree}')}" in message

    listing = project.doit("rollback").stdout
    assert not re.search(r"^rollback: ", listing, re.MULTILINE)  # no "rollback: 1 tasks in 0.0 s" after it
    (said,) = [ln for ln in listing.splitlines() if ln.startswith(v1)]
    assert "21 communes changed, 5 DVF rows added, 0 removed" in said  # as its publish said it
    out = project.doit(f"rollback:{v1}").stdout
    files_changed = re.search(r"rolled back to \S+: (\d+) files changed \(", out)
    # One line, which says the rollback is not online yet (no "rollback: 1 task in 0.1 s" after it).
    line = r"rolled back to \S+: \d+ files changed \([0-9a-f]{10}, not pushed \(push=1 pushes\)\)\n"
    assert re.fullmatch(line, out)
    assert files_changed and f"(would change {files_changed[1]} files)" in said, (said, out)
    assert without_deploy_files(tree_files(repo, "gh-pages")) == without_deploy_files(first)
    assert git(repo, "log", "-1", "--format=%s", "gh-pages") == f"Rollback to {v1}"
    record = project.record()
    assert (record["current"], record["previous"]) == (v1, v2)
    assert record["history"][0]["kind"] == "rollback" and record["history"][0]["from"] == v2
    assert orjson.loads(tree_files(repo, "gh-pages")["version.json"]) == record  # the record is online
    assert files(project.paths.site) == second  # site/ stays the build of the current data...
    assert project.doit().stdout == ""  # ...so the build has nothing to redo

    project.doit("rollback:previous")
    assert without_deploy_files(tree_files(repo, "gh-pages")) == without_deploy_files(second)
    project.doit(f"rollback:{v1}")
    assert "already online" in project.doit(f"rollback:{v1}").stdout  # twice: still exactly v1
    assert without_deploy_files(tree_files(repo, "gh-pages")) == without_deploy_files(first)

    # The main branch, its index and the working tree's own changes were never touched.
    assert git(repo, "rev-parse", "HEAD") == head
    assert git(repo, "status", "--porcelain") == status
    assert git(repo, "branch", "--show-current") == "main"


def test_bad_or_unknown_versions_are_one_error_and_change_nothing(project: Project) -> None:
    project.doit("publish")
    refs, site = git(project.repo, "show-ref"), files(project.paths.site)
    for arg, message in [
        ("rollback:2099.01.01.1", "error: rollback: no published version 2099.01.01.1"),
        ("rollback:2024.13.01.1", "is not a version name (2024-13-01 is not a date)"),
        ("rollback:latest", "'latest' is not a version name"),
        ("rollback:20*", "name one version (wildcards are refused)"),
    ]:
        proc = project.doit(arg, check=False)
        assert proc.returncode == 2, arg
        assert message in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    listing = project.doit("rollback").stdout  # alone: lists, rolls nothing back
    assert "(current)" in listing and "rolled back" not in listing
    assert git(project.repo, "show-ref") == refs and files(project.paths.site) == site


def test_the_build_lock_is_the_kernels_not_a_pid_file(project: Project) -> None:
    project.doit()
    lock = project.paths.build / "lock"
    lock.write_text(f"pid {os.getpid()}: doit publish\n")  # a live pid in the file holds nothing
    project.doit("publish")
    with open(lock, "a") as held:  # a real holder: this process takes the lock
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        proc = project.doit("publish", check=False)
        listed = project.doit("list")  # reading commands never wait for the lock
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.strip().startswith(f"error: another doit is running on {project.paths.build}")
    assert "publish" in listed.stdout
    project.change_a_price()
    project.doit("publish")  # released (or its holder killed): the next run goes ahead
    assert len(project.versions()) == 2


def test_deploy_or_history_branch_equal_to_the_checked_out_one_is_refused(project: Project) -> None:
    before = git(project.repo, "show-ref")
    for setting in ("deploy_branch=main", "history_branch=main"):
        proc = project.doit("publish", setting, check=False)
        assert proc.returncode == 1
        assert f"error: {setting} is the checked-out branch of {project.repo}" in proc.stderr
    assert git(project.repo, "show-ref") == before
    proc = project.doit("publish", "deploy_branch=backup/x", check=False)
    assert proc.returncode == 2 and "deploy_branch=backup/x: not a usable branch name" in proc.stderr
    git(project.repo, "switch", "-q", "-c", "site-next-root")  # the next root of history_branch=site
    proc = project.doit("publish", "history_branch=site", check=False)
    git(project.repo, "switch", "-q", "main")
    git(project.repo, "branch", "-q", "-D", "site-next-root")
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr == (
        "error: history_branch=site: publish moves its next root, site-next-root, the checked-out "
        f"branch of {project.repo}: choose another\n"
    )
    assert git(project.repo, "show-ref") == before


@pytest.mark.parametrize(
    ("settings", "error"),
    [
        (
            {"deploy_branch": "site", "history_branch": "site/old"},
            "history_branch=site/old: git cannot hold this branch beside deploy_branch=site: choose another",
        ),
        (
            {"deploy_branch": "site/new", "history_branch": "site"},
            "deploy_branch=site/new: git cannot hold this branch beside history_branch=site: choose another",
        ),
        ({"history_branch": "backup"}, "history_branch=backup: publish keeps its versions under backup/"),
        (
            {"deploy_branch": "dvf-history-next-root/x"},
            "deploy_branch=dvf-history-next-root/x: git cannot "
            "hold this branch beside dvf-history-next-root, history_branch's next root: choose another",
        ),
    ],
)
def test_branches_git_cannot_hold_together_are_refused(settings: dict[str, str], error: str) -> None:
    """refs/heads/site and refs/heads/site/old cannot both exist: refused before any git runs."""
    with pytest.raises(ConfigError) as e:
        Publishing(**settings)
    assert str(e.value) == error


def test_publish_takes_exactly_the_declared_files(project: Project) -> None:
    project.doit()
    site = project.paths.site
    (site / "ville" / "75056" / ".index.html.t5owc1el.tmp").write_text("half a page")  # a killed write
    project.doit("publish")
    online = tree_files(project.repo, "gh-pages")
    assert not [p for p in online if p.endswith(".tmp")]
    (site / "ville" / "99999").mkdir()
    (site / "ville" / "99999" / "index.html").write_text("stray")
    project.change_a_price()
    proc = project.doit("publish", check=False)
    assert proc.returncode == 1
    assert "files the build did not produce (e.g. ville/75056/.index.html.t5owc1el.tmp" not in proc.stderr
    assert f"{site} holds 1 files the build did not produce (e.g. ville/99999/index.html)" in proc.stderr
    assert len(project.versions()) == 1


def test_a_narrower_scope_removes_what_it_no_longer_builds(project: Project) -> None:
    project.doit("departements=75,976")
    assert (project.paths.site / "ville" / "97611" / "index.html").exists()
    project.doit()  # back to Paris alone
    assert not (project.paths.site / "ville" / "97611").exists()
    assert not (project.paths.site / "data" / "villes" / "97611.json").exists()
    project.doit("publish")
    assert not [p for p in tree_files(project.repo, "gh-pages") if "97611" in p]


def test_rollback_and_publish_with_a_bare_remote(tmp_path: Path) -> None:
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(remote)], check=True)
    project = Project(tmp_path, remote=remote)
    assert "pushed to origin" in project.doit("publish").stdout
    project.change_a_price()
    project.doit("publish")
    v1, v2 = project.versions()
    for ref in ("gh-pages", f"backup/{v1}", f"backup/{v2}", "dvf-history"):
        assert git(remote, "rev-parse", ref) == git(project.repo, "rev-parse", ref)
    project.doit(f"rollback:{v1}")
    assert git(remote, "rev-parse", "gh-pages") == git(project.repo, "rev-parse", "gh-pages")
    assert git(remote, "log", "-1", "--format=%s", "gh-pages") == f"Rollback to {v1}"
    assert without_deploy_files(tree_files(remote, "gh-pages")) == without_deploy_files(
        tree_files(remote, f"backup/{v1}")
    )


def test_a_new_remote_first_receives_what_was_published_locally(tmp_path: Path) -> None:
    """Versions published without a remote, then push=1 to a new, empty one: the remote gets them
    all (and the history) before anything else, so nothing is said to be online that is not, and
    the backups the remote never had are not lost to the next sync."""
    project = Project(tmp_path)
    project.doit("publish")
    project.change_a_price()
    project.doit("publish")
    v1, v2 = project.versions()
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(remote)], check=True)
    git(project.repo, "remote", "add", "pub", str(remote))
    out = project.doit("publish", "push=1", "remote=pub").stdout
    assert f"pub held no site: pushed to it what was published here, 2 versions ({v1} to {v2})" in out
    assert f"nothing to publish: the site online ({v2}) is identical to this build" in out
    for ref in ("gh-pages", f"backup/{v1}", f"backup/{v2}", "dvf-history"):
        assert git(remote, "rev-parse", ref) == git(project.repo, "rev-parse", ref), ref
    project.change_a_price(320000)
    out = project.doit("publish", "push=1", "remote=pub").stdout
    assert "published " in out and "pushed to pub" in out and "held no site" not in out
    v3 = project.versions()[-1]
    project.doit("rollback:" + v1, "push=1", "remote=pub")  # the oldest is still there, everywhere
    assert project.versions() == [v1, v2, v3]
    assert git(remote, "log", "-1", "--format=%s", "gh-pages") == f"Rollback to {v1}"


def test_a_rejected_push_is_one_line_and_records_nothing(tmp_path: Path) -> None:
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(remote)], check=True)
    project = Project(tmp_path, remote=remote)
    project.doit("publish")
    hook = remote / "hooks" / "pre-receive"  # the remote refuses every push from now on
    hook.write_text(
        "#!/bin/sh\necho 'GH006: Protected branch update failed for refs/heads/gh-pages.' >&2\nexit 1\n"
    )
    hook.chmod(0o755)
    git(project.repo, "remote", "set-url", "origin", f"file://x-access-token:ghs_SECRET123@{remote}")
    refs, record = git(project.repo, "show-ref"), project.record()
    project.change_a_price()
    proc = project.doit("publish", check=False)
    assert proc.returncode == 1
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith("error: push to origin (file://***@") and "failed" in line
    assert "ghs_SECRET123" not in proc.stdout + proc.stderr
    assert git(project.repo, "show-ref") == refs and project.record() == record  # not online: not current


def first_published(tmp_path: Path) -> tuple[Project, Path]:
    """A project in tmp_path/a whose main branch and first version are on a bare remote."""
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(remote)], check=True)
    (tmp_path / "a").mkdir()
    project = Project(tmp_path / "a", remote=remote)
    git(project.repo, "push", "-q", "origin", "main")
    project.doit("publish")
    return project, remote


def test_a_fresh_clone_continues_the_published_history(tmp_path: Path) -> None:
    project, remote = first_published(tmp_path)
    (v1,) = project.versions()
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(remote), str(clone))
    assert git(clone, "branch", "--list") == "* main"  # only origin/* refs, as actions/checkout leaves
    paths = Paths.of(tmp_path / "fresh-build", clone / "site")
    project.change_a_price()
    args = (f"repo={clone}", "departements=75", f"source={project.source}", "push=1")
    assert versions.list_versions(Publishing(repo=clone)) == [v1]
    missing = run_doit(paths, "publish", *args, f"source={tmp_path / 'nope'}", check=False)
    assert missing.stderr == f"error: source={tmp_path / 'nope'}: no such file or folder\n"
    assert not paths.db.exists()  # said before the store is restored from git, not after
    out = run_doit(paths, "publish", *args).stdout
    v2 = v1[:-1] + "2"
    assert f"published {v2}" in out  # the name continues, it does not collide
    assert git(remote, "rev-parse", "gh-pages^") == git(remote, "rev-parse", f"backup/{v1}")  # fast-forward
    history = [h["version"] for h in orjson.loads(tree_files(remote, "gh-pages")["version.json"])["history"]]
    assert history == [v2, v1]


def restored(folder: Path, into: Path) -> Path:
    """`folder` as actions/cache restores it on a fresh runner: through tar, so every file keeps its
    mtime (whole seconds) and size, and gets a new inode and ctime."""
    into.mkdir(parents=True, exist_ok=True)
    packed = subprocess.run(
        ["tar", "-C", str(folder.parent), "-cf", "-", folder.name], capture_output=True, check=True
    )
    subprocess.run(["tar", "-C", str(into), "-xf", "-"], input=packed.stdout, check=True)
    return into / folder.name


def index_inodes(repo: Path, index: Path) -> dict[str, int]:
    """The inode git's index recorded for each path: that of the file git last read."""
    out = subprocess.run(
        ["git", "-C", str(repo), "ls-files", "--debug"],
        env={**os.environ, "GIT_INDEX_FILE": str(index)},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    inodes, path = {}, ""
    for line in out.splitlines():
        if not line.startswith(" "):
            path = line
        elif "ino:" in line:
            inodes[path] = int(line.split("ino:")[1])
    return inodes


def test_a_fresh_runner_reads_only_the_changed_files_even_after_a_failed_push(tmp_path: Path) -> None:
    """The weekly job's publish on a fresh runner: a fresh clone, build/ and site/ from the cache.
    git's private indexes in build/ must spare it reading the 70,000 unchanged files again, and
    must not fail when they name blobs of a commit whose push failed (in no clone)."""
    project, remote = first_published(tmp_path)
    hook = remote / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\nexit 1\n")
    hook.chmod(0o755)
    project.change_a_price(310000)
    assert project.doit("publish", check=False).returncode == 1  # committed here, never pushed
    hook.unlink()
    time.sleep(1.1)  # the files' mtimes a second older than the indexes: not "racily clean"

    build, site = project.paths.build, project.paths.site
    for week in (1, 2):
        runner = tmp_path / f"runner-{week}"
        git(tmp_path, "clone", "-q", str(remote), str(runner / "clone"))
        build, site = restored(build, runner / "cache"), restored(site, runner / "clone")
        paths = Paths.of(build, site)
        indexes = (paths.publish_index, paths.publish_pages_index(0), paths.publish_pages_index(1))
        before = {p: i for index in indexes for p, i in index_inodes(runner / "clone", index).items()}
        args = (f"repo={runner / 'clone'}", "departements=75", f"source={project.source}", "push=1")
        if week == 2:
            project.change_a_price(320000)
        tip = git(remote, "rev-parse", "gh-pages")
        assert f"published {project.versions()[0][:-1]}{week + 1}" in run_doit(paths, "publish", *args).stdout
        assert without_deploy_files(tree_files(remote, "gh-pages")) == without_deploy_files(files(site))
        changed = set(git(remote, "diff", "--name-only", tip, "gh-pages").split())
        assert "data/villes/75101.json" in changed
        if week == 2:  # the files the version did not change were not read again
            after = {p: i for index in indexes for p, i in index_inodes(runner / "clone", index).items()}
            kept = {p for p in after if p not in changed}
            assert len(kept) > 20 and all(after[p] == before[p] != (site / p).stat().st_ino for p in kept)
            assert any(p.startswith("ville/") for p in kept) and any(p.startswith("data/") for p in kept)


def test_the_push_does_not_search_deltas_between_parquet_partitions(tmp_path: Path) -> None:
    """Compressed Parquet does not delta (a France release's push: the same pack to the byte), and
    the search cost 10 of its 26 s: the push's attributes turn it off for them, not for the pages.
    Settings the caller passes through the environment stay."""
    repo = tmp_path / "repo"
    git(tmp_path, "init", "-q", str(repo))
    caller = {
        **os.environ,
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": "user.name",
        "GIT_CONFIG_VALUE_0": "Caller",
    }
    env = gitrepo.settings_env(gitrepo.PUSH_SETTINGS, caller)

    def run(*args: str) -> list[str]:
        proc = subprocess.run(
            ["git", "-C", str(repo), *args], env=env, capture_output=True, text=True, check=True
        )
        return proc.stdout.splitlines()

    paths = ["rows/2021-1-75.parquet", "index.html"]
    assert run("check-attr", "delta", "--", *paths) == [
        f"{paths[0]}: delta: unset",
        f"{paths[1]}: delta: unspecified",
    ]
    assert run("config", "user.name") == ["Caller"]


def test_a_lease_is_honoured_by_a_forced_push(tmp_path: Path) -> None:
    """A forced move (retention's rewrites) goes out only if the remote still holds what this run
    read: a concurrent publish is never overwritten."""
    remote, work = tmp_path / "remote.git", tmp_path / "work"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(remote)], check=True)
    git(tmp_path, "init", "-q", "-b", "main", str(work))
    commits = []
    for text in ("a", "b", "c"):
        (work / "f").write_text(text)
        git(work, "add", "f")
        git(work, "-c", "user.email=t@example.org", "-c", "user.name=t", "commit", "-qm", text)
        commits.append(git(work, "rev-parse", "HEAD"))
    repo, ref = gitrepo.GitRepo(work), "refs/heads/x"
    repo.push(str(remote), [gitrepo.RefUpdate(ref, commits[2], None)])
    with pytest.raises(gitrepo.GitError, match="stale info"):  # someone moved it since: refused
        repo.push(str(remote), [gitrepo.RefUpdate(ref, commits[0], commits[1], force=True)])
    assert git(remote, "rev-parse", ref) == commits[2]
    repo.push(str(remote), [gitrepo.RefUpdate(ref, commits[0], commits[2], force=True)])  # a rewind
    assert git(remote, "rev-parse", ref) == commits[0]
    with pytest.raises(gitrepo.GitError, match="stale info"):  # must not exist, but does
        repo.push(str(remote), [gitrepo.RefUpdate(ref, commits[1], None, force=True)])


def parquet_blobs(repo: Path, rev: str = "dvf-history") -> set[str]:
    return {ln.split()[2] for ln in git(repo, "ls-tree", "-r", rev).splitlines() if ln.endswith(".parquet")}


def packed(repo: Path, idx: Path) -> set[str]:
    """The objects a pack holds."""
    fields = map(str.split, git(repo, "verify-pack", "-v", str(idx)).splitlines())
    return {f[0] for f in fields if len(f) >= 5 and f[1] in ("blob", "tree", "commit", "tag")}


def test_retention_keeps_the_last_versions_and_the_history_they_need(tmp_path: Path) -> None:
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(remote)], check=True)
    git(remote, "config", "receive.unpackLimit", "1")  # every push stays a pack: what it sent is seen
    project = Project(tmp_path, remote=remote)
    project.args.append("keep_versions=2")
    july = [r.replace("/01/2021|", "/07/2021|") for r in PARIS_ROWS]  # a partition no publish changes
    raw_file(project.source / "paris-2021-s2.txt", july)
    cloudflare = Stub()
    env = {"CF_ZONE": "zone", "CF_API_TOKEN": "t", "CF_API_BASE": cloudflare.url}
    try:
        project.doit("publish")
        project.change_a_price(214332)
        project.doit("publish")
        project.doit("purge", "site_url=https://x.example", "purge_wait=0", env=env)  # marks v2 as purged
        v1, v2 = project.versions()
        assert len(git(remote, "rev-list", "gh-pages").split()) == 2
        project.change_a_price(224332)
        next_root, partitions = git(remote, "rev-parse", "dvf-history-next-root"), parquet_blobs(remote)
        packs = set((remote / "objects" / "pack").glob("*.idx"))
        project.doit("publish")  # a third version: v1 goes, the deploy chain now starts at v2
        # The history was cut to its last two commits on the root the remote held already, so the
        # push sent the partition that changed, not the others again (a new root sent them all).
        assert git(remote, "rev-list", "--max-parents=0", "dvf-history") == next_root
        kept = partitions & parquet_blobs(remote)
        sent = {
            o for idx in set((remote / "objects" / "pack").glob("*.idx")) - packs for o in packed(remote, idx)
        }
        assert kept and partitions - kept and sent and not kept & sent
        v3 = project.record()["current"]
        assert project.versions() == [v2, v3]
        backups = git(remote, "for-each-ref", "--format=%(refname:short)", "refs/heads/backup/").split()
        assert backups == [f"backup/{v2}", f"backup/{v3}"]
        chain = git(remote, "rev-list", "gh-pages").split()
        assert len(chain) == 2 and git(remote, "rev-parse", f"backup/{v2}") == chain[1]
        assert "Earlier versions pruned (keep_versions=2)." in git(
            remote, "log", "-1", "--format=%B", chain[1]
        )
        site = without_deploy_files(files(project.paths.site))
        assert without_deploy_files(tree_files(remote, "gh-pages")) == site  # online: unchanged
        assert len(git(remote, "rev-list", "dvf-history").split()) == 2  # keep_history=2: the last two
        for ref in ("gh-pages", "dvf-history", f"backup/{v2}", f"backup/{v3}"):
            assert git(project.repo, "rev-parse", ref) == git(remote, "rev-parse", ref)
        # A street renamed: the store and its history change, no page does. That publish moves only
        # the history, and cuts it as any other does: on the root the remote holds, to two commits.
        renamed = PARIS_ROWS[0].replace("300000,00", "224332,00").replace("DE RIVOLI", "DE RIVOLY")
        raw_file(project.source / "paris-2021.txt", [renamed, *PARIS_ROWS[1:]])
        next_root, online = (
            git(remote, "rev-parse", "dvf-history-next-root"),
            git(remote, "rev-parse", "gh-pages"),
        )
        out = project.doit("publish").stdout
        assert (
            f"nothing to publish: the site online ({v3}) is identical" in out
            and "history in git is updated" in out
        )
        assert git(remote, "rev-parse", "gh-pages") == online and project.versions() == [v2, v3]
        assert git(remote, "rev-list", "--max-parents=0", "dvf-history") == next_root
        assert len(git(remote, "rev-list", "dvf-history").split()) == 2
        for ref in ("dvf-history", "dvf-history-next-root"):
            assert git(project.repo, "rev-parse", ref) == git(remote, "rev-parse", ref)
        cloudflare.calls.clear()  # the purge mark followed v2 to its rewritten commit: v2 -> v3 only
        project.doit("purge", "site_url=https://x.example", "purge_wait=0", env=env)
        sent = sorted(u for _, _, body in cloudflare.calls for u in body["files"])
        changed = git(remote, "diff", "--name-only", chain[1], chain[0]).splitlines()
        assert sent == purge.urls("https://x.example", changed)
        project.doit("rollback:previous")
        assert without_deploy_files(tree_files(remote, "gh-pages")) == without_deploy_files(
            tree_files(remote, f"backup/{v2}")
        )
        proc = project.doit(f"rollback:{v1}", check=False)
        assert proc.returncode == 2 and f"no published version {v1}" in proc.stderr
        rows = orjson.loads(tree_files(remote, "dvf-history")["manifest.json"])["rows"]
        project.change_a_price(234332)
        project.doit("publish", "keep_history=1")  # the history branch down to its tip: every row kept
        assert len(git(remote, "rev-list", "dvf-history").split()) == 1
        assert "dvf-history-next-root" not in git(remote, "branch", "--list")  # no cut to come: gone
        # A next root the remote lost (deleted by hand) is dropped here too, not leased on for ever.
        root = git(remote, "rev-parse", "dvf-history")
        git(remote, "branch", "dvf-history-next-root", root)
        pub = Publishing(repo=project.repo, push=True)
        assert versions.sync(gitrepo.GitRepo(project.repo), pub).next_root == root
        git(remote, "branch", "-D", "dvf-history-next-root")
        assert versions.sync(gitrepo.GitRepo(project.repo), pub).next_root is None
        assert orjson.loads(tree_files(remote, "dvf-history")["manifest.json"])["rows"] == rows
    finally:
        cloudflare.close()


def test_version_names_are_validated_before_git() -> None:
    assert versions.validate("2024.11.13.1") == "2024.11.13.1"
    for bad in ["2024.11.13", "2024.11.13.0", "24.11.13.1", "2024.02.30.1", "2024.11.13.1;rm", "../x"]:
        with pytest.raises(versions.VersionError):
            versions.validate(bad)


def test_a_method_change_counts_the_communes_whose_figures_moved(project: Project) -> None:
    """A setting rewrites every JSON file (each states the method), but the summary counts only
    the communes whose figures moved, and no DVF row was added or removed."""
    project.doit("publish")
    out = project.doit("publish", "min_value=350000", "kept_points=100").stdout  # drops 3 of 5 sales
    files_changed = int(out.split(" removed, ")[1].split(" files")[0])
    assert "3 communes with new figures, 0 DVF rows added and 0 removed" in out  # 75101, 75102, Paris
    assert files_changed > 20  # every commune's JSON names the method


def test_a_public_site_is_not_published_without_its_legal_notice(project: Project) -> None:
    """LCEN: a site at its own URL names its publisher, director, host and contact.
    Publishing it without them is one line naming the missing settings, and nothing goes online;
    with them, the legal notice says who they are."""
    public = "site_url=https://prix.example.org"
    proc = project.doit("publish", public, check=False)
    lines = (proc.stdout + proc.stderr).strip().splitlines()
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert lines[-1] == (
        "error: site_url=https://prix.example.org: the legal notice needs publisher=, director=, "
        "host=, contact= (LCEN) before publishing"
    ), lines
    assert project.versions() == [] and not git(project.repo, "branch", "--list", "gh-pages")
    legal = [
        "publisher=Association Prix Clairs, 3 place de la Mairie, 64700 Hendaye",
        "director=Camille Martin",
        "host=GitHub Inc., 88 Colin P Kelly Jr St, San Francisco, CA 94107, États-Unis",
        "contact=contact@prix.example.org",
    ]
    assert "published" in project.doit("publish", public, *legal).stdout
    page = (project.paths.site / "mentions-legales" / "index.html").read_text("utf-8")
    assert "<dd>Association Prix Clairs, 3 place de la Mairie, 64700 Hendaye</dd>" in page
    assert '<a href="mailto:contact@prix.example.org">' in page and "Camille Martin" in page
    assert "site de démonstration" not in page


def test_the_site_taken_in_parts_is_the_tree_of_the_whole(tmp_path: Path) -> None:
    """The commune pages go through two indexes of their own (codes from 0 to 4, the others), taken
    beside the rest of the site and the history at once: the same trees, to the byte, as each
    folder added through one index, through edits, removals, a killed write's temp file, the
    pages' folder gone and back, a stray file, and from the index of the whole site an earlier
    version kept."""
    repo, site, build = tmp_path / "repo", tmp_path / "site", tmp_path / "build"
    git(tmp_path, "init", "-q", str(repo))
    g = gitrepo.GitRepo(repo)
    paths = Paths.of(build, site)
    build.mkdir()
    for name, text in {
        "index.html": "home",
        "assets/app.js": "js",
        "data/villes/75101.json": "{}",
        "ville/75101/index.html": "Paris 1er",
        "ville/75102/index.html": "Paris 2e",
    }.items():
        (site / name).parent.mkdir(parents=True, exist_ok=True)
        (site / name).write_text(text)
    (paths.history / "rows").mkdir(parents=True)
    (paths.history / "rows" / "2024-1-75.parquet").write_bytes(b"PAR1")
    g.trees([gitrepo.Snapshot(paths.publish_index, site, versions.TEMP_FILES)])  # as publish kept it before

    def whole(index: Path, folder: Path) -> str:
        """The folder's tree through one index, as publish took it before."""
        [(tree, _)] = g.trees([gitrepo.Snapshot(index, folder, versions.TEMP_FILES)])
        return tree

    def remove(name: str) -> None:
        (site / name).unlink()
        (site / name).parent.rmdir()

    def add(name: str) -> None:
        (site / name).parent.mkdir(parents=True, exist_ok=True)
        (site / name).write_text("x")

    steps = [
        ("the index of the whole site, from before", lambda: None),
        ("a page edited", lambda: (site / "ville/75101/index.html").write_text("Paris 1er arrondissement")),
        ("a page removed", lambda: remove("ville/75102/index.html")),
        ("a JSON added", lambda: add("data/villes/75103.json")),
        ("a killed write's temp file", lambda: (site / "ville/75101/.index.html.1a-2.tmp").write_text("x")),
        ("the history exported", lambda: (paths.history / HISTORY_MANIFEST).write_text("{}")),
        ("the pages' folder gone", lambda: shutil.rmtree(site / "ville")),
        ("a file named like it, where it was", lambda: (site / "ville").write_text("a file")),
        ("and the folder back", lambda: ((site / "ville").unlink(), add("ville/75104/index.html"))),
        ("a page in the other half", lambda: add("ville/01001/index.html")),
        ("a stray file among the pages", lambda: add("ville/stray.html")),
    ]  # fmt: skip
    for what, change in steps:
        change()
        declared = {str(p.relative_to(site)) for p in site.rglob("*") if p.is_file() and p.suffix != ".tmp"}
        built, history = versions.trees(g, paths, declared)
        assert built == whole(tmp_path / "whole.index", site), what
        exported = (paths.history / HISTORY_MANIFEST).exists()
        expected = whole(tmp_path / "history.index", paths.history) if exported else None
        assert history == expected, what
        if (site / "ville").is_file():  # not declared: refused, as any file the build did not produce
            with pytest.raises(
                versions.VersionError, match=r"holds 1 files the build did not produce \(e\.g\. ville\)"
            ):
                versions.trees(g, paths, declared - {"ville"})
    assert set(g.index_paths(paths.publish_pages_index(0))) == {"ville/01001/index.html"}
    assert set(g.index_paths(paths.publish_pages_index(1))) == {"ville/75104/index.html", "ville/stray.html"}
    assert not any(p.startswith("ville/") for p in g.index_paths(paths.publish_index))


def test_a_damaged_index_is_one_error_line(tmp_path: Path) -> None:
    """The adds run at once; one failing is a GitError naming git's reason, once the others ended."""
    repo, site = tmp_path / "repo", tmp_path / "site"
    git(tmp_path, "init", "-q", str(repo))
    (site / "ville" / "75101").mkdir(parents=True)
    (site / "ville" / "75101" / "index.html").write_text("Paris 1er")
    (site / "index.html").write_text("home")
    paths = Paths.of(tmp_path / "build", site)
    paths.build.mkdir()
    paths.publish_pages_index(1).write_bytes(b"not an index")
    with pytest.raises(
        gitrepo.GitError,
        match=r"^git add failed: .*publish-pages-1\.index: index file smaller than expected$",
    ):
        versions.trees(gitrepo.GitRepo(repo), paths, {"index.html", "ville/75101/index.html"})
    assert gitrepo.GitRepo(repo).index_paths(paths.publish_index) == ["index.html"]  # the other one ran


def test_a_tree_with_files_is_gits_own(tmp_path: Path) -> None:
    """The version's own files put into the site's tree by listing only the folders on their
    paths: the tree git's index gives, to the byte (a file replaced, one added beside others, one
    in a new folder two levels down, one at the top)."""
    repo, site = tmp_path / "repo", tmp_path / "site"
    git(tmp_path, "init", "-q", str(repo))
    for name in ("index.html", "api/health.json", "api/other.json", "ville/75101/index.html"):
        (site / name).parent.mkdir(parents=True, exist_ok=True)
        (site / name).write_text(name)
    g = gitrepo.GitRepo(repo)
    [(base, _)] = g.trees([gitrepo.Snapshot(tmp_path / "site.index", site)])
    files = {
        "api/health.json": b"replaced",
        "api/profile.json": b"added",
        "admin/deep/index.html": b"new folders",
        "version.json": b"{}",
    }
    env = {**os.environ, "GIT_INDEX_FILE": str(tmp_path / "scratch.index")}
    subprocess.run(["git", "-C", str(repo), "read-tree", base], env=env, check=True)
    info = "".join(f"100644 {g.blob(data)}\t{path}\n" for path, data in files.items())
    subprocess.run(
        ["git", "-C", str(repo), "update-index", "--index-info"], input=info.encode(), env=env, check=True
    )
    expected = subprocess.run(
        ["git", "-C", str(repo), "write-tree"], env=env, check=True, capture_output=True
    )
    assert g.tree_with(base, files) == expected.stdout.decode().strip()
