"""Publish and rollback on real git repositories in temporary folders."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import orjson
import pytest
from conftest import RAW_2021, run_doit
from test_ops import Stub

from rules import versions
from rules.paths import Paths


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True
    ).stdout.strip()


def files(site: Path) -> dict[str, bytes]:
    return {p.relative_to(site).as_posix(): p.read_bytes() for p in sorted(site.rglob("*")) if p.is_file()}


def tree_files(repo: Path, rev: str) -> dict[str, bytes]:
    data = subprocess.run(
        ["git", "-C", str(repo), "archive", "--format=tar", rev], capture_output=True, check=True
    )
    with tarfile.open(fileobj=io.BytesIO(data.stdout)) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}


class Project:
    """A git repository with the site inside it (ignored on main), and a DVF source folder."""

    def __init__(self, tmp: Path, remote: Path | None = None) -> None:
        self.repo, self.source = tmp / "repo", tmp / "source"
        self.repo.mkdir()
        self.source.mkdir()
        git(self.repo, "init", "-q", "-b", "main")
        (self.repo / ".gitignore").write_text("/site/\n/versions/version.json\n")
        (self.repo / "README").write_text("hello\n")
        git(self.repo, "add", "-A")
        git(self.repo, "-c", "user.email=t@example.org", "-c", "user.name=t", "commit", "-qm", "init")
        shutil.copy(RAW_2021, self.source)
        self.paths = Paths.of(tmp / "build", self.repo / "site")
        self.args = [f"repo={self.repo}", "departements=01", f"source={self.source}"]
        if remote:
            self.args += ["push=1", f"remote={remote}"]

    def doit(self, *args: str, check: bool = True, env: dict | None = None) -> subprocess.CompletedProcess:
        return run_doit(self.paths, *self.args, *args, check=check, env=env)

    def change_a_price(self) -> None:
        raw = self.source / RAW_2021.name
        raw.write_text(raw.read_text("utf-8").replace("204332,00", "214332,00"), encoding="utf-8")

    def record(self) -> dict:
        return orjson.loads((self.repo / "versions" / "version.json").read_bytes())


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return Project(tmp_path)


def test_publish_change_publish_and_roll_back(project: Project) -> None:
    repo = project.repo
    (repo / "README").write_text("edited, not committed\n")  # the working tree's own changes
    (repo / "notes.txt").write_text("untracked\n")
    head, status = git(repo, "rev-parse", "HEAD"), git(repo, "status", "--porcelain")

    out = project.doit("publish").stdout
    v1 = versions.list_versions(versions.Publishing(repo=repo))[0]
    assert f"published {v1}:" in out and v1.endswith(".1")
    first = files(project.paths.site)
    assert tree_files(repo, f"backup/{v1}") == first  # the branch holds exactly site/
    assert git(repo, "rev-parse", "gh-pages") == git(repo, "rev-parse", f"backup/{v1}")

    project.change_a_price()
    project.doit("publish")
    v2 = v1[:-1] + "2"  # published twice the same day
    second = files(project.paths.site)
    assert tree_files(repo, "gh-pages") == second != first
    assert git(repo, "rev-parse", "gh-pages^") == git(repo, "rev-parse", f"backup/{v1}")  # deploy history
    record = project.record()
    assert (record["current"], record["previous"]) == (v2, v1)
    assert record["history"][0]["changes"]["cities_updated"] == 1  # BUELLAS
    html_changed = {
        k for k in first.keys() | second.keys() if k.endswith(".html") and first.get(k) != second.get(k)
    }
    assert record["history"][0]["changes"]["pages_rerendered"] == len(html_changed) > 0
    message = git(repo, "log", "-1", "--format=%B", f"backup/{v2}")
    assert f"Source commit: {head}" in message and "Data manifest: sha256:" in message and "duckdb" in message

    out = project.doit(f"rollback:{v1}").stdout
    assert f"rolled back to {v1}" in out
    assert files(project.paths.site) == first  # byte-identical, nothing left over
    assert git(repo, "rev-parse", "gh-pages^{tree}") == git(repo, "rev-parse", f"backup/{v1}^{{tree}}")
    assert git(repo, "log", "-1", "--format=%s", "gh-pages") == f"Rollback to {v1}"
    record = project.record()
    assert (record["current"], record["previous"]) == (v1, v2)
    assert record["history"][0]["kind"] == "rollback" and record["history"][0]["from"] == v2
    purge = orjson.loads((project.paths.build / "purge.json").read_bytes())
    assert purge["paths"] == sorted(k for k in first.keys() | second.keys() if first.get(k) != second.get(k))
    assert "data/villes/01065.json" in purge["paths"]

    project.doit("rollback:previous")
    assert files(project.paths.site) == second
    project.doit(f"rollback:{v1}")
    project.doit(f"rollback:{v1}")  # twice: still exactly v1
    assert files(project.paths.site) == first

    # The main branch, its index and the working tree's own changes were never touched.
    assert git(repo, "rev-parse", "HEAD") == head
    assert git(repo, "status", "--porcelain") == status
    assert git(repo, "branch", "--show-current") == "main"

    # After a rollback, the next doit rebuilds from the store: current data everywhere, no mix.
    ran = project.doit().stdout
    assert ".  stats" in ran
    rebuilt = files(project.paths.site)
    deploy_state = {"version.json", "api/health.json", "admin/index.html"}  # name the version online
    assert {k: v for k, v in rebuilt.items() if k not in deploy_state} == {
        k: v for k, v in second.items() if k not in deploy_state
    }
    assert project.doit().stdout == ""


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


def test_publish_is_refused_while_another_holds_the_lock(project: Project) -> None:
    project.doit()
    lock = project.paths.build / "publish.lock"
    lock.write_text(str(os.getpid()))  # a live process: this test
    proc = project.doit("publish", check=False)
    assert proc.returncode != 0 and "another publish or rollback is running" in proc.stderr
    assert versions.list_versions(versions.Publishing(repo=project.repo)) == []
    lock.write_text("999999999")  # a process that is gone: a stale lock is taken over
    project.doit("publish")
    assert len(versions.list_versions(versions.Publishing(repo=project.repo))) == 1
    assert not lock.exists()


def test_rollback_flow_with_a_bare_remote(tmp_path: Path) -> None:
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    project = Project(tmp_path, remote=remote)
    project.doit("publish")
    project.change_a_price()
    project.doit("publish")
    v1, v2 = versions.list_versions(versions.Publishing(repo=project.repo))
    assert git(remote, "rev-parse", "gh-pages") == git(project.repo, "rev-parse", "gh-pages")
    assert git(remote, "rev-parse", f"backup/{v2}") == git(project.repo, "rev-parse", f"backup/{v2}")
    # restore, commit, push, and the list of files to purge from the CDN
    project.doit(f"rollback:{v1}")
    assert git(remote, "rev-parse", "gh-pages") == git(project.repo, "rev-parse", "gh-pages")
    assert git(remote, "log", "-1", "--format=%s", "gh-pages") == f"Rollback to {v1}"
    assert tree_files(remote, "gh-pages") == files(project.paths.site)
    purge = orjson.loads((project.paths.build / "purge.json").read_bytes())
    assert purge["version"] == v1 and purge["paths"]
    # ... and the CDN purge of exactly those files, against a local stand-in for Cloudflare.
    cloudflare = Stub()
    try:
        env = {"CF_ZONE": "zone", "CF_API_TOKEN": "token-xyz", "CF_API_BASE": cloudflare.url}
        out = project.doit("purge", "site_url=https://x.example", env=env).stdout
        sent = [url for _, _, body in cloudflare.calls for url in body["files"]]
        assert "https://x.example/data/villes/01065.json" in sent and "token-xyz" not in out
        assert len(sent) >= len(purge["paths"]) and f"URLs of {v1}" in out
    finally:
        cloudflare.close()


def test_a_fresh_checkout_continues_the_history_from_the_deploy_branch(project: Project) -> None:
    project.doit("publish")
    (project.repo / "versions" / "version.json").unlink()  # a CI runner starts without it
    project.change_a_price()
    project.doit("publish")
    history = [h["version"] for h in project.record()["history"]]
    assert len(history) == 2 and history[0].endswith(".2") and history[1].endswith(".1")


def test_version_names_are_validated_before_git() -> None:
    assert versions.validate("2024.11.13.1") == "2024.11.13.1"
    for bad in ["2024.11.13", "2024.11.13.0", "24.11.13.1", "2024.02.30.1", "2024.11.13.1;rm", "../x"]:
        with pytest.raises(versions.VersionError):
            versions.validate(bad)
