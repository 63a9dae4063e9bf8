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
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import orjson

from rules import lifetime
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
TREE = b"040000 tree "  # a folder's entry in `git ls-tree` and `git mktree`, before its id
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
class Ran:
    """How a git command run beside others ended."""

    command: str
    code: int
    stdout: bytes
    reason: str

    def output(self) -> bytes:
        """Its output, or the GitError its failure is."""
        if self.code:
            raise GitError(f"git {self.command} failed: {self.reason}", self.reason)
        return self.stdout

    def check(self) -> str:
        return _text(self.output())

    @classmethod
    def of(cls, command: str, code: int, stdout: bytes, stderr: bytes) -> Ran:
        return cls(command, code, stdout, reason(stderr.decode("utf-8", "replace")) if code else "")


@dataclass(frozen=True)
class Snapshot:
    """A folder whose tree is taken through a private index, whose stat cache means only the
    files that changed are read again. `exclude`: globs that never enter it; `objects`: settings
    for the objects its add writes (COMPRESSED); `only`: the one top-level subfolder it holds;
    `without`: top-level subfolders it leaves to other snapshots."""

    index: Path
    work: Path
    exclude: tuple[str, ...] = ()
    objects: dict[str, str] = field(default_factory=dict)
    only: str | None = None
    without: tuple[str, ...] = ()

    def pathspecs(self) -> list[str]:
        """What its `git add` takes, and what its index may hold (a folder left to another
        snapshot is excluded with its slash: a file of that name stays here, as one index has it)."""
        return [
            self.only or ".",
            *(f":(exclude){d}/" for d in self.without),
            *(f":(exclude,glob){g}" for g in self.exclude),
        ]


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
        return _text(self.run_bytes(*args, input=input, env=env))

    def run_bytes(self, *args: str, input: bytes | None = None, env: dict[str, str] | None = None) -> bytes:
        proc = subprocess.run(
            ["git", "-C", str(self.path), *args],
            input=input,
            capture_output=True,
            env={**self.env, **(env or {})},
        )
        return Ran.of(args[0], proc.returncode, proc.stdout, proc.stderr).output()

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

    def trees(self, snapshots: Sequence[Snapshot], retry: bool = True) -> list[tuple[str, set[str]]]:
        """Each snapshot's tree as its folder is on disk, and the paths it holds. Their `git add`s
        run side by side, then their `write-tree`s, on both cores (a first publish writes the
        site's 680 MB and 35,000 folders, and the history's 343 MB); they share nothing but the
        object store, where git writes each object through a temporary file.

        An index lives in build/, restored from the CI cache next to a fresh clone: when it names
        a blob this repository lacks (the run that wrote it committed, then its push failed), git
        cannot write the tree, and those indexes are rebuilt from the files, once, side by side."""
        for snap in snapshots:
            _unlock(snap.index)
        added = self._at_once(
            [["add", "--all", "--force", "--", *s.pathspecs()] for s in snapshots],
            [settings_env({**TRUST_MTIME, **s.objects}, self._index_env(s)) for s in snapshots],
        )
        for result in added:
            result.check()
        held = [self._without_stale(snap) for snap in snapshots]
        written = self._at_once([["write-tree"]] * len(snapshots), [self._index_env(s) for s in snapshots])
        lacking = [i for i, r in enumerate(written) if r.code and r.reason.endswith(MISSING_OBJECTS)]
        again: dict[int, tuple[str, set[str]]] = {}
        if lacking and retry:
            for i in lacking:
                snapshots[i].index.unlink(missing_ok=True)
            again = dict(zip(lacking, self.trees([snapshots[i] for i in lacking], retry=False), strict=True))
        out = []
        for i, (result, paths) in enumerate(zip(written, held, strict=True)):
            out.append(again[i] if i in again else (result.check(), paths))
        return out

    def _without_stale(self, snap: Snapshot) -> set[str]:
        """The paths a snapshot's index holds, less those its pathspecs no longer take (entered
        before they were excluded, or before another snapshot took them): now out of it. git
        itself says which, by the same pathspecs its add used."""
        env = self._index_env(snap)
        held = set(self.index_paths(snap.index))
        taken = self.run_bytes("ls-files", "-z", "--", *snap.pathspecs(), env=env)
        stale = held.difference(p for p in taken.decode("utf-8", "surrogateescape").split("\0") if p)
        if stale:
            names = "\0".join(sorted(stale)).encode("utf-8", "surrogateescape")
            self.run("update-index", "--force-remove", "-z", "--stdin", input=names, env=env)
        return held.difference(stale)

    def _index_env(self, snap: Snapshot) -> dict[str, str]:
        return {**self.env, "GIT_INDEX_FILE": str(snap.index), "GIT_WORK_TREE": str(snap.work)}

    def _at_once(self, commands: list[list[str]], envs: list[dict[str, str]]) -> list[Ran]:
        """Run git commands side by side, until all have ended. They end with the run: a Ctrl-C
        reaches them all, and a run killed outright takes them with it, so that none outlives the
        build lock (the next run removes the index locks they leave)."""
        procs: list[subprocess.Popen[bytes]] = []
        die_with_run = _dying_with(os.getpid())
        try:
            for args, env in zip(commands, envs, strict=True):
                procs.append(
                    subprocess.Popen(
                        ["git", "-C", str(self.path), *args],
                        env=env,
                        stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE,
                        preexec_fn=die_with_run,  # the run starts no threads
                    )
                )
            outputs = [proc.communicate() for proc in procs]
        finally:
            for proc in procs:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
        return [
            Ran.of(args[0], proc.returncode, out, err)
            for args, proc, (out, err) in zip(commands, procs, outputs, strict=True)
        ]

    def joined(self, trees: Iterable[str]) -> str:
        """One tree holding the entries of `trees`; a folder in several of them holds the entries
        of each (the commune pages, taken in two halves)."""
        entries: dict[bytes, list[bytes]] = {}
        for tree in trees:
            for name, meta in self._listing(tree):
                entries.setdefault(name, []).append(meta)
        joined = {}
        for name, metas in entries.items():
            if len(metas) > 1:
                if not all(m.startswith(TREE) for m in metas):
                    raise GitError(f"the trees to join share a file: {name.decode(errors='replace')}")
                metas = [TREE + self.joined(m.split()[2].decode() for m in metas).encode()]
            joined[name] = metas[0]
        return self._mktree(joined)

    def _listing(self, tree: str) -> list[tuple[bytes, bytes]]:
        """A tree's entries: (name, "mode type id")."""
        out = self.run_bytes("ls-tree", "-z", tree)
        return [(name, meta) for meta, _, name in (e.partition(b"\t") for e in out.split(b"\0") if e)]

    def _mktree(self, entries: dict[bytes, bytes]) -> str:
        """The tree of these entries ({name: "mode type id"}; git sorts them)."""
        return self.run(
            "mktree", "-z", input=b"".join(meta + b"\t" + name + b"\0" for name, meta in entries.items())
        )

    def index_paths(self, index: Path) -> list[str]:
        out = self.run_bytes("ls-files", "-z", env={"GIT_INDEX_FILE": str(index)})
        return [p for p in out.decode("utf-8", "surrogateescape").split("\0") if p]

    def blob(self, data: bytes) -> str:
        return self.run("hash-object", "-w", "--stdin", input=data)

    def tree_with(self, base: str, files: dict[str, bytes]) -> str:
        """`base` with `files` added or replaced. Only the folders on their paths are listed and
        written again: reading the 70,000 entries of a site into an index and writing them back
        cost a first publish 0.9 s."""
        changes: dict[str, Any] = {}
        for path, data in files.items():
            *folders, name = path.split("/")
            node = changes
            for folder in folders:
                node = node.setdefault(folder, {})
            node[name] = self.blob(data)
        return self._edited(base, changes)

    def _edited(self, tree: str | None, changes: dict[str, Any]) -> str:
        """`tree` (None: empty) with `changes`: {name: blob id, or the changes of a folder}."""
        entries = dict(self._listing(tree)) if tree else {}
        for changed, change in changes.items():
            key = changed.encode()
            if isinstance(change, dict):
                old = entries.get(key, b"")
                sub = old.split()[2].decode() if old.startswith(TREE) else None
                entries[key] = TREE + self._edited(sub, change).encode()
            else:
                entries[key] = b"100644 blob " + change.encode()
        return self._mktree(entries)

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


def _dying_with(parent: int) -> Callable[[], None]:
    """What a child runs before git: tied to the run (rules/lifetime.py), or ended at once."""

    def tie() -> None:
        if not lifetime.tie_to(parent):
            os._exit(1)

    return tie


def _text(out: bytes) -> str:
    return out.decode("utf-8", "surrogateescape").strip()


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
