"""Published versions of the site in git: publish, list, roll back.

A version `YYYY.MM.DD.N` is a commit whose tree is exactly `site/`, kept as branch
`backup/<version>` of the project's repository; the deploy branch (default `gh-pages`) moves to
it, its parent being the previous deploy commit, so the deploy branch's history is the site's.
Nothing touches the checked-out branch, its index or the working tree (except `versions/` and
`site/`): trees are written through a private index (`build/publish.index`, whose stat cache makes
the next snapshot cheap) with `site/` as the work tree. Bulk work goes through git itself
(`repo.git`): GitPython's pure-Python index takes minutes for 70,000 files.
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import git
import orjson

from rules import health
from rules.errors import ImmoStatsError
from rules.files import canonical_json, sha256_file, write_atomic
from rules.paths import ROOT, Paths

VERSION_RE = re.compile(r"(\d{4})\.(\d{2})\.(\d{2})\.([1-9]\d{0,3})")
BACKUP_PREFIX = "backup/"


class VersionError(ImmoStatsError):
    """A version name is malformed or unknown, or the repository is not in a state to publish."""


@dataclass(frozen=True)
class Publishing:
    """Where and how versions are kept (settings: repo=, deploy_branch=, push=, remote=)."""

    repo: Path = ROOT
    deploy_branch: str = "gh-pages"
    push: bool = False
    remote: str = "origin"
    github_repo: str = ""  # owner/name, for the dashboard's "force update" link


def validate(name: str) -> str:
    """A version name as YYYY.MM.DD.N with a real date; anything else never reaches git."""
    m = VERSION_RE.fullmatch(name)
    if not m:
        raise VersionError(
            f"rollback: {name!r} is not a version name (expected YYYY.MM.DD.N, e.g. 2024.11.13.1)"
        )
    try:
        date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        raise VersionError(
            f"rollback: {name!r} is not a version name ({m[1]}-{m[2]}-{m[3]} is not a date)"
        ) from None
    return name


def _repo(pub: Publishing) -> git.Repo:
    try:
        return git.Repo(pub.repo)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise VersionError(f"repo={pub.repo}: not a git repository") from None


def list_versions(pub: Publishing) -> list[str]:
    """Published versions, oldest first (from the backup branches)."""
    try:
        out = subprocess.run(
            [
                "git",
                "-C",
                str(pub.repo),
                "for-each-ref",
                "--format=%(refname:strip=3)",
                f"refs/heads/{BACKUP_PREFIX}",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (subprocess.CalledProcessError, FileNotFoundError):
        return []
    names = [n for n in out.split() if VERSION_RE.fullmatch(n)]
    return sorted(names, key=lambda n: tuple(int(x) for x in n.split(".")))


class Lock:
    """One publish or rollback at a time: an exclusive lock file holding the owner's pid.

    A lock left by a process that no longer exists is taken over; a live one refuses."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __enter__(self) -> Lock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                owner = self._owner()
                if owner and _alive(owner):
                    raise VersionError(
                        f"another publish or rollback is running (pid {owner}, lock {self.path}); "
                        "try again later"
                    ) from None
                self.path.unlink(missing_ok=True)  # stale: its process is gone
                continue
            with os.fdopen(fd, "w") as f:
                f.write(str(os.getpid()))
            return self
        raise VersionError(f"cannot take the publish lock {self.path}")

    def _owner(self) -> int | None:
        try:
            return int(self.path.read_text().strip() or 0) or None
        except (OSError, ValueError):
            return None

    def __exit__(self, *exc: object) -> None:
        self.path.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _site_tree(repo: git.Repo, paths: Paths) -> str:
    """The git tree of site/ as it is on disk, through the private index (only changed files are hashed)."""
    env = {"GIT_INDEX_FILE": str(paths.build / "publish.index"), "GIT_WORK_TREE": str(paths.site)}
    with repo.git.custom_environment(**env):
        repo.git.add("--all", "--force", "--", ".")
        return repo.git.write_tree()


def _read_version_file(repo: git.Repo, paths: Paths, pub: Publishing) -> dict[str, Any]:
    """versions/version.json, or (on a fresh checkout) the copy on the deploy branch, or a new one."""
    local = pub.repo / "versions" / "version.json"
    if local.exists():
        return orjson.loads(local.read_bytes())
    try:
        return orjson.loads(repo.git.show(f"{pub.deploy_branch}:version.json"))
    except git.GitCommandError:
        return {"current": None, "previous": None, "history": []}


def read_record(pub: Publishing) -> dict[str, Any] | None:
    """versions/version.json as the last publish or rollback left it, if any."""
    path = pub.repo / "versions" / "version.json"
    return orjson.loads(path.read_bytes()) if path.exists() else None


def _head(repo: git.Repo, branch: str) -> str | None:
    try:
        return repo.git.rev_parse("--verify", "--quiet", f"refs/heads/{branch}")
    except git.GitCommandError:
        return None


def _next_name(existing: list[str], today: date) -> str:
    prefix = today.strftime("%Y.%m.%d.")
    n = max((int(v.rsplit(".", 1)[1]) for v in existing if v.startswith(prefix)), default=0) + 1
    return f"{prefix}{n}"


def _changed_paths(repo: git.Repo, old: str | None, new: str) -> list[tuple[str, str]]:
    """(status, path) of files that differ between two trees or commits (A, M, D)."""
    if old is None:
        out = repo.git.ls_tree("-r", "-z", "--name-only", new)
        return [("A", p) for p in out.split("\0") if p]
    out = repo.git.diff("--name-status", "--no-renames", "-z", old, new)
    parts = [p for p in out.split("\0") if p]
    return list(zip(parts[0::2], parts[1::2], strict=True))


def _json_at(repo: git.Repo, rev: str | None, path: str) -> dict | None:
    if rev is None:
        return None
    try:
        return orjson.loads(repo.git.show(f"{rev}:{path}"))
    except git.GitCommandError:
        return None


def _tool_versions() -> str:
    import doit
    import duckdb
    import jinja2

    return (
        f"duckdb {duckdb.__version__}, doit {'.'.join(map(str, doit.__version__))}, "
        f"jinja2 {jinja2.__version__}, gitpython {git.__version__}"
    )


def publish(paths: Paths, pub: Publishing, now: datetime | None = None) -> dict[str, Any]:
    """Snapshot site/ as a new version, move the deploy branch to it, record it in version.json."""
    now = now or datetime.now(UTC)
    if not (paths.site / "index.html").exists():
        raise VersionError(f"publish: {paths.site} holds no built site; run doit first")
    with Lock(paths.build / "publish.lock"):
        repo = _repo(pub)
        try:
            name = _next_name(list_versions(pub), now.date())
            parent = _head(repo, pub.deploy_branch)
            record = _read_version_file(repo, paths, pub)
            release = orjson.loads(paths.release.read_bytes())["text"] if paths.release.exists() else ""
            source = repo.head.commit.hexsha if repo.head.is_valid() else "none"
            # The changes are those of the built site; version.json is then added to the snapshot.
            built = _site_tree(repo, paths)
            changed = [c for c in _changed_paths(repo, parent, built) if c[1] != "version.json"]
            entry: dict[str, Any] = {
                "version": name,
                "date": _iso(now),
                "kind": "publish",
                "source_commit": source,
                "changes": _changes(repo, parent, built, changed, paths, now),
            }
            record = {
                **record,
                "current": name,
                "previous": record.get("current"),
                "release": release,
                "commit": source,
                "history": [entry, *record.get("history", [])],
            }
            write_atomic(paths.site / "version.json", canonical_json(record))
            if paths.changes.exists():  # the dashboard names the version going online
                health.write(paths, record, pub.github_repo)
            tree = _site_tree(repo, paths)
            manifest = sha256_file(paths.data_manifest) if paths.data_manifest.exists() else "none"
            message = (
                f"Publish {name}\n\nSource commit: {source}\nData manifest: sha256:{manifest}\n"
                f"Release: {release}\nTools: {_tool_versions()}\n"
            )
            commit = repo.git.commit_tree(tree, "-m", message, *(["-p", parent] if parent else []))
            repo.git.update_ref(f"refs/heads/{BACKUP_PREFIX}{name}", commit, "")
            repo.git.update_ref(f"refs/heads/{pub.deploy_branch}", commit, parent or "")
        except git.GitCommandError as e:
            raise VersionError(f"publish: git failed: {_git_error(e)}") from None
        entry["commit"] = commit  # known only now: in versions/version.json, not in the snapshot
        purge = [p for _, p in changed] + ["version.json"]
        _finish(paths, pub, repo, record, purge, [f"{BACKUP_PREFIX}{name}", pub.deploy_branch])
        return {"version": name, "commit": commit, **entry["changes"]}


def rollback(paths: Paths, pub: Publishing, target: str, now: datetime | None = None) -> dict[str, Any]:
    """Restore site/ to exactly `target` (or "previous"), move the deploy branch to a new commit
    "Rollback to <version>" with that tree, and record it. The next doit rebuilds from the store."""
    now = now or datetime.now(UTC)
    with Lock(paths.build / "publish.lock"):
        repo = _repo(pub)
        record = _read_version_file(repo, paths, pub)
        name = resolve(target, record, list_versions(pub))
        try:
            wanted = repo.git.rev_parse(f"refs/heads/{BACKUP_PREFIX}{name}^{{tree}}")
            on_disk = _site_tree(repo, paths)
            changed = _changed_paths(repo, on_disk, wanted)
            _restore(repo, paths, changed, wanted)
            parent = _head(repo, pub.deploy_branch)
            message = f"Rollback to {name}\n\nFrom: {record.get('current')}\nTools: {_tool_versions()}\n"
            commit = repo.git.commit_tree(wanted, "-m", message, *(["-p", parent] if parent else []))
            repo.git.update_ref(f"refs/heads/{pub.deploy_branch}", commit, parent or "")
        except git.GitCommandError as e:
            raise VersionError(f"rollback: git failed: {_git_error(e)}") from None
        entry = {
            "version": name,
            "date": _iso(now),
            "kind": "rollback",
            "from": record.get("current"),
            "commit": commit,
            "changes": {"files_changed": len(changed)},
        }
        record = {
            **record,
            "current": name,
            "previous": record.get("current"),
            "history": [entry, *record["history"]],
        }
        _finish(paths, pub, repo, record, [p for _, p in changed], [pub.deploy_branch])
        forget_build_state(paths)
        return {"version": name, "commit": commit, "files_changed": len(changed)}


def forget_build_state(paths: Paths) -> None:
    """`doit forget` for every task, so the next doit rebuilds everything from the store instead
    of mixing the restored version's pages with newer ones. dodo.py pins doit's sqlite3 backend,
    which keeps one row per task in table `doit`; the running doit only re-adds its own rows."""
    if paths.doit_db.exists():
        with closing(sqlite3.connect(paths.doit_db, timeout=30)) as con:
            con.execute("delete from doit")
            con.commit()


def resolve(target: str, record: dict[str, Any], known: list[str]) -> str:
    """`previous` or a version name, checked against the published versions."""
    if target == "previous":
        name = record.get("previous")
        if not name:
            raise VersionError("rollback: there is no previous version to go back to")
        return name
    validate(target)
    if target not in known:
        shown = ", ".join(known[-5:]) or "none yet"
        raise VersionError(f"rollback: no published version {target} (latest: {shown})")
    return target


def _restore(repo: git.Repo, paths: Paths, changed: list[tuple[str, str]], tree: str) -> None:
    """Make site/ equal `tree` by writing and deleting only the paths that differ."""
    for status, path in changed:
        if status == "D":
            (paths.site / path).unlink(missing_ok=True)
    wanted = {p for s, p in changed if s != "D"}
    if wanted:
        listing = repo.git.ls_tree("-r", "-z", tree)
        blobs = {}
        for item in listing.split("\0"):
            if item:
                meta, path = item.split("\t", 1)
                if path in wanted:
                    blobs[path] = meta.split()[2]
        for path, data in _cat_blobs(repo, blobs):
            write_atomic(paths.site / path, data)
    for folder in sorted(
        {(paths.site / p).parent for s, p in changed if s == "D"}, key=lambda d: -len(d.parts)
    ):
        while folder != paths.site and folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
            folder = folder.parent


def _cat_blobs(repo: git.Repo, blobs: dict[str, str]) -> list[tuple[str, bytes]]:
    """Read many blobs with one `git cat-file --batch` process."""
    order = list(blobs.items())
    proc = subprocess.run(
        ["git", "-C", repo.working_dir, "cat-file", "--batch"],
        input="".join(f"{sha}\n" for _, sha in order).encode(),
        capture_output=True,
        check=True,
    )
    out, pos, result = proc.stdout, 0, []
    for path, _ in order:
        header_end = out.index(b"\n", pos)
        size = int(out[pos:header_end].split()[2])
        result.append((path, out[header_end + 1 : header_end + 1 + size]))
        pos = header_end + 1 + size + 1
    return result


def _changes(
    repo: git.Repo, parent: str | None, tree: str, changed: list[tuple[str, str]], paths: Paths, now: datetime
) -> dict[str, Any]:
    """What this version changes against the previous one: communes, sales, files, build time."""

    def sales(rev: str | None) -> int:
        doc = _json_at(repo, rev, "data/france.json")
        return doc["metadata"]["period"]["sales"] if doc and doc["metadata"]["period"] else 0

    build_time = None
    if paths.changes.exists():
        started = orjson.loads(paths.changes.read_bytes()).get("started_at")
        if started:
            build_time = round((now - datetime.fromisoformat(started)).total_seconds(), 1)
    return {
        "cities_updated": sum(1 for _, p in changed if p.startswith("data/villes/")),
        "pages_rerendered": sum(1 for _, p in changed if p.endswith(".html")),
        "new_transactions": sales(tree) - sales(parent),
        "files_changed": len(changed),
        "build_time": build_time,
    }


def _finish(
    paths: Paths, pub: Publishing, repo: git.Repo, record: dict[str, Any], purge: list[str], refs: list[str]
) -> None:
    """Write versions/version.json and the purge list, then push when configured."""
    write_atomic(pub.repo / "versions" / "version.json", canonical_json(record))
    write_atomic(
        paths.build / "purge.json", canonical_json({"version": record["current"], "paths": sorted(purge)})
    )
    if pub.push:
        try:
            repo.git.push(pub.remote, *(f"refs/heads/{r}:refs/heads/{r}" for r in refs))
        except git.GitCommandError as e:
            raise VersionError(f"push to {pub.remote} failed: {_git_error(e)}") from None


def describe(paths: Paths, pub: Publishing) -> list[str]:
    """One line per version, newest first, saying what rolling back to it would change."""
    repo = _repo(pub)
    record = _read_version_file(repo, paths, pub)
    deploy = _head(repo, pub.deploy_branch)
    by_name = {}
    for entry in reversed(record.get("history", [])):
        by_name.setdefault(entry["version"], entry)
    lines = []
    for name in reversed(list_versions(pub)):
        entry = by_name.get(name, {})
        changes = entry.get("changes", {})
        diff = len(_changed_paths(repo, deploy, f"{BACKUP_PREFIX}{name}")) if deploy else 0
        mark = "current" if name == record.get("current") else f"would change {diff} files"
        lines.append(
            f"{name}  {entry.get('date', '?')}  {changes.get('cities_updated', '?')} communes updated, "
            f"{changes.get('new_transactions', '?')} new sales  ({mark})"
        )
    return lines or ["no published version yet (doit publish)"]


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _git_error(e: git.GitCommandError) -> str:
    text = (e.stderr or str(e)).strip().splitlines()
    return text[-1].strip().removeprefix("stderr: ").strip("'") if text else str(e)


def check_command_line(argv: list[str], pub: Publishing) -> None:
    """Refuse a malformed, unknown or wildcard `rollback:<version>` before doit sees it: doit would
    only say "Invalid parameter", or run every matching rollback in turn."""
    for arg in argv:
        if not arg.startswith("rollback:"):
            continue
        name = arg.split(":", 1)[1]
        if any(c in name for c in "*?["):
            raise VersionError(f"rollback: {arg!r}: name one version (wildcards are refused)")
        if name != "previous":
            resolve(name, {}, list_versions(pub))


def requested(argv: list[str], name: str) -> bool:
    """True only when `rollback:<name>` was typed: `doit rollback` alone must never roll back."""
    return f"rollback:{name}" in argv
