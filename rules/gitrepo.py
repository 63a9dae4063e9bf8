"""git for versions, history and purge marks: plumbing through one wrapper, secrets kept out.

GitPython opens and validates the repository and tells the checked-out branch; bulk work goes
through git's own plumbing (`add` into a private index, `write-tree`, `commit-tree`, one
`update-ref --stdin` transaction, `push --atomic`), which is what makes 70,000 files cheap
(GitPython's pure-Python index takes minutes). Every message is redacted: a remote URL with a
token in it (`https://x-access-token:...@github.com/...`) never reaches the terminal.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path
from typing import NamedTuple

import orjson

from rules.errors import ImmoStatsError, redact
from rules.paths import GIT_ATTRIBUTES

EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
_BASE_ENV = {"GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C", "GIT_ASKPASS": "true"}
_IDENTITY = {"NAME": "ImmoStats", "EMAIL": "immostats@users.noreply.github.com"}
# A file whose size and mtime (whole seconds) match its index entry is not read again. git's
# default also compares the inode, the ctime and the nanoseconds, which a cache restore (tar)
# renews on every file: each week's fresh runner then read all of site/ again (70,000 files,
# 680 MB: 5.6 s at France scale, 0.6 s with this; the history's partitions likewise).
TRUST_MTIME = {"core.checkStat": "minimal", "core.trustCtime": "false"}
PUSH_SETTINGS = {"core.attributesFile": str(GIT_ATTRIBUTES)}  # no delta search for Parquet
# For files compressed already (the history's Parquet): their new objects stored as they are, not
# deflated again (git's loose objects default to zlib's fastest level, which still costs 2.3 s for
# the 192 partitions of a France release, 66 MB; stored: 0.6 s, 2 % larger). The objects are
# loose: a push or a gc packs them again at git's own level, so a remote stores the same bytes.
COMPRESSED = {"core.looseCompression": "0"}
MISSING_OBJECTS = "error building trees"  # git write-tree's reason when a blob is not in the repository


class GitError(ImmoStatsError):
    """A git command failed; the message names the command and git's reason, without secrets."""

    def __init__(self, message: str, reason: str = "") -> None:
        super().__init__(message)
        self.reason = reason or message


class Change(NamedTuple):
    """A file that differs between two trees: A(dded), M(odified) or D(eleted), and its blob on
    each side (git's zero id where it is absent)."""

    status: str
    path: str
    old: str
    new: str


@dataclass(frozen=True)
class RefUpdate:
    """Set `ref` to `new` (None deletes it), provided it is still `old` (None: must not exist).

    `force` allows a non-fast-forward move on a remote (history pruning), guarded by `old`."""

    ref: str
    new: str | None
    old: str | None
    force: bool = False


class GitRepo:
    """A repository, and the plumbing the project needs from it."""

    def __init__(self, path: Path) -> None:
        import git  # GitPython costs 60 ms to import: only the runs that open the repository pay it

        try:
            self.repo = git.Repo(path)
        except (git.InvalidGitRepositoryError, git.NoSuchPathError):
            raise GitError(f"repo={path}: not a git repository") from None
        self.path = Path(self.repo.working_tree_dir or self.repo.git_dir)
        self.env = {**os.environ, **_BASE_ENV}
        if not self._config("user.email"):  # a fresh runner: commits still need an author
            for role in ("AUTHOR", "COMMITTER"):
                for key, value in _IDENTITY.items():
                    self.env.setdefault(f"GIT_{role}_{key}", value)

    def _config(self, key: str) -> str:
        proc = subprocess.run(["git", "-C", str(self.path), "config", "--get", key], capture_output=True)
        return proc.stdout.decode().strip()

    def run(self, *args: str, input: bytes | None = None, env: dict[str, str] | None = None) -> str:
        return self.run_bytes(*args, input=input, env=env).decode("utf-8", "surrogateescape").strip()

    def run_bytes(self, *args: str, input: bytes | None = None, env: dict[str, str] | None = None) -> bytes:
        proc = subprocess.run(
            ["git", "-C", str(self.path), *args],
            input=input,
            capture_output=True,
            env={**self.env, **(env or {})},
        )
        if proc.returncode != 0:
            why = reason(proc.stderr.decode("utf-8", "replace"))
            raise GitError(f"git {args[0]} failed: {why}", why)
        return proc.stdout

    # -- reading -----------------------------------------------------------------------------

    def current_branch(self) -> str | None:
        try:
            return self.repo.active_branch.name
        except TypeError:  # detached HEAD (actions/checkout of a tag or sha)
            return None

    def head_commit(self) -> str:
        return self.repo.head.commit.hexsha if self.repo.head.is_valid() else "none"

    def refs(self, *patterns: str) -> dict[str, str]:
        """{full ref name: object id} for refs matching the for-each-ref patterns."""
        out = self.run("for-each-ref", "--format=%(objectname) %(refname)", *patterns)
        return {name: sha for sha, name in (line.split(" ", 1) for line in out.splitlines() if line)}

    def rev(self, ref: str) -> str | None:
        try:
            return self.run("rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}")
        except GitError:
            return None

    def tree_of(self, rev: str) -> str:
        return self.run("rev-parse", "--verify", "--end-of-options", f"{rev}^{{tree}}")

    def read(self, rev: str | None, path: str) -> bytes | None:
        """A file of a commit or tree, or None when absent."""
        if rev is None:
            return None
        try:
            return self.run_bytes("cat-file", "blob", f"{rev}:{path}")
        except GitError:
            return None

    def read_json(self, rev: str | None, path: str) -> dict | None:
        """A JSON object stored in a commit; None when absent, a GitError when it is not an object."""
        data = self.read(rev, path)
        if data is None:
            return None
        try:
            doc = orjson.loads(data)
        except orjson.JSONDecodeError:
            doc = None
        if not isinstance(doc, dict):
            raise GitError(f"{rev}:{path} is not a JSON object")
        return doc

    def ls_tree(self, rev: str) -> dict[str, str]:
        """{path: blob id} of every file of a tree or commit."""
        out = self.run_bytes("ls-tree", "-r", "-z", "--full-tree", rev).decode("utf-8", "surrogateescape")
        entries = {}
        for item in out.split("\0"):
            if item:
                meta, path = item.split("\t", 1)
                entries[path] = meta.split()[2]
        return entries

    def cat_blobs(self, shas: Sequence[str]) -> list[bytes]:
        """Many blobs through one `git cat-file --batch`."""
        if not shas:
            return []
        out = self.run_bytes("cat-file", "--batch", input="".join(f"{s}\n" for s in shas).encode())
        pos, blobs = 0, []
        for _ in shas:
            header_end = out.index(b"\n", pos)
            size = int(out[pos:header_end].split()[2])
            blobs.append(out[header_end + 1 : header_end + 1 + size])
            pos = header_end + 1 + size + 1
        return blobs

    def diff(self, old: str | None, new: str, exclude: Iterable[str] = ()) -> list[Change]:
        """The files that differ between two trees or commits, with their blobs on each side."""
        spec = ["--", ".", *(f":(exclude,literal){p}" for p in exclude)]
        out = self.run_bytes("diff-tree", "-r", "--no-renames", "-z", old or EMPTY_TREE, new, *spec).decode(
            "utf-8", "surrogateescape"
        )
        parts = [p for p in out.split("\0") if p]
        changes = []
        for meta, path in zip(parts[0::2], parts[1::2], strict=True):
            _, _, was, now, status = meta.split()  # ":100644 100644 <old blob> <new blob> M"
            changes.append(Change(status, path, was, now))
        return changes

    def first_parents(self, tip: str) -> list[str]:
        """The commits of a branch, newest first, following first parents."""
        return self.run("rev-list", "--first-parent", tip).split()

    def size_bytes(self) -> int:
        """The repository's objects on disk (packed and loose)."""
        fields = dict(
            line.split(": ", 1) for line in self.run("count-objects", "-v").splitlines() if ": " in line
        )
        return (int(fields.get("size", 0)) + int(fields.get("size-pack", 0))) * 1024

    def remote_url(self, remote: str) -> str:
        try:
            return redact(self.run("remote", "get-url", "--", remote))
        except GitError:
            return "not configured"

    # -- writing objects (nothing a reader sees until refs move) -----------------------------

    def tree_from_dir(
        self, index: Path, work: Path, exclude: Iterable[str] = (), objects: dict[str, str] | None = None
    ) -> tuple[str, set[str]]:
        """The tree of a folder as it is on disk, and the paths it holds, through a private index
        whose stat cache means only changed files are read again. Paths matching `exclude` (globs)
        never enter it; `objects`: settings for the objects it writes (COMPRESSED).

        The index lives in build/, restored from the CI cache next to a fresh clone: when it names
        a blob this repository lacks (the run that wrote it committed, then its push failed), git
        cannot write the tree, and the index is rebuilt from the files, once."""
        try:
            return self._tree_from_dir(index, work, exclude, objects)
        except GitError as e:
            if not e.reason.endswith(MISSING_OBJECTS):
                raise
        index.unlink(missing_ok=True)
        return self._tree_from_dir(index, work, exclude, objects)

    def _tree_from_dir(
        self, index: Path, work: Path, exclude: Iterable[str], objects: dict[str, str] | None
    ) -> tuple[str, set[str]]:
        env = {"GIT_INDEX_FILE": str(index), "GIT_WORK_TREE": str(work)}
        _unlock(index)
        specs = [f":(exclude,glob){g}" for g in exclude]
        trusting = settings_env({**TRUST_MTIME, **(objects or {})}, {**self.env, **env})
        self.run("add", "--all", "--force", "--", ".", *specs, env=trusting)
        held = set(self.index_paths(index))
        stale = sorted(p for p in held if any(fnmatch(p, g) or fnmatch(f"/{p}", g) for g in exclude))
        if stale:  # entered before they were excluded: out of the index too
            self.run(
                "update-index", "--force-remove", "-z", "--stdin", input="\0".join(stale).encode(), env=env
            )
        return self.run("write-tree", env=env), held.difference(stale)

    def index_paths(self, index: Path) -> list[str]:
        out = self.run_bytes("ls-files", "-z", env={"GIT_INDEX_FILE": str(index)})
        return [p for p in out.decode("utf-8", "surrogateescape").split("\0") if p]

    def blob(self, data: bytes) -> str:
        return self.run("hash-object", "-w", "--stdin", input=data)

    def tree_with(self, base: str, files: dict[str, bytes], scratch: Path) -> str:
        """`base` with `files` added or replaced, through a scratch index (removed after)."""
        env = {"GIT_INDEX_FILE": str(scratch)}
        _unlock(scratch)
        try:
            self.run("read-tree", base, env=env)
            info = "".join(f"100644 {self.blob(data)}\t{path}\n" for path, data in sorted(files.items()))
            self.run("update-index", "--index-info", input=info.encode(), env=env)
            return self.run("write-tree", env=env)
        finally:
            scratch.unlink(missing_ok=True)

    def commit(self, tree: str, parent: str | None, message: str, env: dict[str, str] | None = None) -> str:
        return self.run(
            "commit-tree", tree, *(["-p", parent] if parent else []), input=message.encode(), env=env
        )

    def note(
        self, notes: str | None, target: str, message: str | None = None, copy_from: str | None = None
    ) -> str:
        """A notes commit on top of `notes` that annotates `target` (with `message`, or with the
        note of `copy_from`), made on a scratch ref: the real notes ref moves with the others."""
        scratch = "refs/notes/immostats-scratch"
        self.update_refs([RefUpdate(scratch, notes, None)], check_old=False)
        try:
            if copy_from:
                self.run("notes", f"--ref={scratch}", "copy", "-f", copy_from, target)
            else:
                self.run("notes", f"--ref={scratch}", "add", "-f", "-m", message or "", target)
            return self.run("rev-parse", scratch)
        finally:
            self.update_refs([RefUpdate(scratch, None, None)], check_old=False)

    def annotated(self, notes_ref: str) -> set[str]:
        """The objects that carry a note under `notes_ref`."""
        return {
            line.split()[1] for line in self.run("notes", f"--ref={notes_ref}", "list").splitlines() if line
        }

    # -- moving refs ---------------------------------------------------------------------------

    def update_refs(self, updates: Iterable[RefUpdate], check_old: bool = True) -> None:
        """Move every ref in one transaction: all or none (`old` checked when `check_old`)."""
        lines = ["start"]
        for u in updates:
            old = (u.old or "0" * 40) if check_old else ""
            line = f"delete {u.ref} {old}" if u.new is None else f"update {u.ref} {u.new} {old}"
            lines.append(line.rstrip())
        if len(lines) == 1:
            return
        self.run("update-ref", "--stdin", input=("\n".join([*lines, "prepare", "commit"]) + "\n").encode())

    def fetch(self, remote: str, refspecs: Sequence[str]) -> None:
        try:
            self.run("fetch", "--quiet", "--prune", "--no-tags", "--no-write-fetch-head", remote, *refspecs)
        except GitError as e:
            raise GitError(f"cannot fetch from {remote} ({self.remote_url(remote)}): {e.reason}") from None

    def push(self, remote: str, updates: Sequence[RefUpdate]) -> None:
        """One atomic push: the remote takes every ref or none. A rejection is one line."""
        args = ["push", "--atomic", "--porcelain", "--no-verify", remote]
        for u in updates:
            if u.force:
                args.insert(2, f"--force-with-lease={u.ref}:{u.old or ''}")
            args.append(f"{u.new or ''}:{u.ref}")  # no '+': it would override the lease
        env = settings_env(PUSH_SETTINGS, self.env)
        proc = subprocess.run(["git", "-C", str(self.path), *args], capture_output=True, env=env)
        if proc.returncode != 0:
            why = _rejection(proc.stdout.decode("utf-8", "replace")) or reason(
                proc.stderr.decode("utf-8", "replace")
            )
            raise GitError(f"push to {remote} ({self.remote_url(remote)}) failed: {why}")


def settings_env(values: dict[str, str], env: dict[str, str]) -> dict[str, str]:
    """`env` with git settings for one command added (`GIT_CONFIG_COUNT`, git 2.31), after any it
    already passes (a container's `safe.directory`, say)."""
    first = int(env.get("GIT_CONFIG_COUNT") or 0)
    out = {**env, "GIT_CONFIG_COUNT": str(first + len(values))}
    for i, (key, value) in enumerate(values.items(), start=first):
        out |= {f"GIT_CONFIG_KEY_{i}": key, f"GIT_CONFIG_VALUE_{i}": value}
    return out


def _unlock(index: Path) -> None:
    """A git killed while writing a private index leaves `<index>.lock`, and every later git would
    refuse that index. The caller holds the build lock: no other git of ours can be writing it."""
    index.with_name(index.name + ".lock").unlink(missing_ok=True)


def reason(stderr: str) -> str:
    """git's own reason, from its error output: the first fatal/error/remote line, redacted."""
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    for prefix in ("fatal:", "error:", "remote:"):
        for line in lines:
            if line.lower().startswith(prefix) and "failed to push some refs" not in line:
                return redact(line.split(":", 1)[1].strip())
    return redact(lines[0]) if lines else "no reason given"


def _rejection(porcelain: str) -> str:
    """From `push --porcelain`: the ref the remote refused and why (not the atomic fallout)."""
    refused = [ln.split("\t") for ln in porcelain.splitlines() if ln.startswith("!")]
    for fields in refused:
        if len(fields) >= 3 and "atomic push failed" not in fields[2]:
            ref = fields[1].split(":")[-1].removeprefix("refs/heads/")
            hint = (
                " (the remote changed since this run read it: another publish? nothing was published; "
                "run again)"
                if "non-fast-forward" in fields[2] or "fetch first" in fields[2] or "stale info" in fields[2]
                else ""
            )
            return redact(f"{ref}: {fields[2].strip()}{hint}")
    return ""
