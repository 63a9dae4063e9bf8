"""Published versions of the site in git: publish, list, roll back.

A version `YYYY.MM.DD.N` is a deploy commit (see `rules.publishing` for the refs). Its tree is
exactly the files the build declared, plus `version.json`, `api/profile.json` and the health
files naming that version; `site/` itself is never written by publish or rollback, so a doit
build and its records always agree with `site/`.

Crash safety comes from one rule: nothing is current until its refs moved, and refs move in one
step. With `push=1` that step is one atomic push (the remote takes every ref or none), after
which local refs are set to match; every command starts by fetching the remote and mirroring
it, so a run killed after its push is finished by the next one, and a run killed before it
left only unreachable objects. Without a remote, the step is one `update-ref` transaction.
Publishing a site identical to the one online creates no version, so running publish again
after an interruption ends where an uninterrupted run would.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import orjson

from rules import gate, health, retention, store
from rules.errors import ImmoStatsError
from rules.files import canonical_json, sha256_file, write_atomic
from rules.gitrepo import COMPRESSED, Change, GitError, GitRepo, RefUpdate, Snapshot
from rules.paths import ADMIN, DATA_DIRS, HEALTH, HISTORY_MANIFEST, PAGE_DIRS, PROFILE, RECORD, Paths
from rules.publishing import BACKUP_PREFIX, NOTES_REF, Publishing

VERSION_RE = re.compile(r"(\d{4})\.(\d{2})\.(\d{2})\.([1-9]\d{0,3})")
DEPLOY_FILES = (RECORD, PROFILE, HEALTH, ADMIN)  # written by publish for the version going online
TEMP_FILES = ("**/.*.tmp",)  # a killed atomic write's leftovers: never part of a tree
# The commune pages, half of the site's 70,000 files and its 35,000 folders, go through two indexes
# of their own (codes starting 0-4, and the others), taken beside the rest of the site and the
# history: a first publish's adds and trees on both cores (the site alone took 13 s on one).
PAGES = PAGE_DIRS["commune"]
PAGE_HALVES = (f"{PAGES}/[0-4]*", f"{PAGES}/[!0-4]*")
EMPTY_RECORD: dict[str, Any] = {"current": None, "previous": None, "history": []}


class VersionError(ImmoStatsError):
    """A version name is malformed or unknown, or the repository is not in a state to publish."""


@dataclass
class Online:
    """What is published, as the remote (or, without one, the local repository) has it."""

    deploy: str | None
    history: str | None
    notes: str | None
    versions: dict[str, str] = field(default_factory=dict)  # name -> backup commit
    next_root: str | None = None  # see retention.prune_history
    sent: list[str] = field(default_factory=list)  # versions published locally, pushed to a new remote

    def names(self) -> list[str]:
        return sorted(self.versions, key=_version_key)


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


def _version_key(name: str) -> tuple[int, ...]:
    return tuple(int(x) for x in name.split("."))


def open_repo(pub: Publishing) -> GitRepo:
    """The repository, refusing a deploy or history branch that is the one checked out (moving it
    would move the project's own code to the site)."""
    repo = GitRepo(pub.repo)
    current = repo.current_branch()
    for setting, branch in (("deploy_branch", pub.deploy_branch), ("history_branch", pub.history_branch)):
        if branch == current:
            raise VersionError(f"{setting}={branch} is the checked-out branch of {pub.repo}: choose another")
    if current == pub.next_root_branch:
        raise VersionError(
            f"history_branch={pub.history_branch}: publish moves its next root, {current}, the checked-out "
            f"branch of {pub.repo}: choose another"
        )
    return repo


def _backups(refs: dict[str, str], prefix: str) -> dict[str, str]:
    names = {ref.removeprefix(prefix): sha for ref, sha in refs.items() if ref.startswith(prefix)}
    return {n: sha for n, sha in names.items() if VERSION_RE.fullmatch(n)}


def list_versions(pub: Publishing) -> list[str]:
    """Published versions, oldest first, from local backup branches and the remote's as last
    fetched (a fresh clone has only those). Cheap: no network, for doit's task list."""
    try:
        repo = GitRepo(pub.repo)
        refs = repo.refs(f"refs/heads/{BACKUP_PREFIX}", pub.tracking(BACKUP_PREFIX))
    except GitError:
        return []
    names = {**_backups(refs, f"refs/heads/{BACKUP_PREFIX}"), **_backups(refs, pub.tracking(BACKUP_PREFIX))}
    return sorted(names, key=_version_key)


def sync(repo: GitRepo, pub: Publishing, send_local: bool = False) -> Online:
    """Fetch the remote (push=1) and make local refs mirror it; return what is online.

    With `send_local` (a publish or a rollback), a remote that holds no site yet first receives
    what this repository published without one: else its versions would be said online when
    they are not, and the next sync, mirroring the remote, would drop their backups."""
    sent: list[str] = []
    if pub.push:
        repo.fetch(
            pub.remote,
            [f"+refs/heads/*:{pub.tracking('*')}", f"+refs/notes/*:refs/remotes/{pub.remote}/notes/*"],
        )
        mirrored = {ref: pub.tracking_of(ref) for ref in _mirrored_refs(pub)}
        remote = repo.refs(pub.tracking(""), f"refs/remotes/{pub.remote}/notes/")
        local = _published_refs(repo, pub)
        for name in _backups(remote, pub.tracking(BACKUP_PREFIX)):
            mirrored[pub.backup_ref(name)] = pub.tracking(BACKUP_PREFIX + name)
        updates = [
            RefUpdate(mine, remote[theirs], None)
            for mine, theirs in mirrored.items()
            if theirs in remote and local.get(mine) != remote[theirs]
        ]
        if pub.tracking(pub.deploy_branch) in remote:  # an established remote: what it lacks goes
            updates += [
                RefUpdate(ref, None, None)
                for ref in local
                if (ref not in mirrored and "/backup/" in ref)
                or (ref == pub.next_root_ref and mirrored[ref] not in remote)
            ]
        repo.update_refs(updates, check_old=False)
        if send_local and pub.tracking(pub.deploy_branch) not in remote:
            sent = _send_local(repo, pub, remote)
    refs = _published_refs(repo, pub)
    online = Online(
        deploy=refs.get(pub.deploy_ref),
        history=refs.get(pub.history_ref),
        notes=refs.get(NOTES_REF),
        versions=_backups(refs, f"refs/heads/{BACKUP_PREFIX}"),
        next_root=refs.get(pub.next_root_ref),
        sent=sent,
    )
    _write_record(pub, read_record_at(repo, online.deploy))
    return online


def _send_local(repo: GitRepo, pub: Publishing, remote: dict[str, str]) -> list[str]:
    """Push, in one atomic push, the published refs this repository has and the remote lacks
    (each must still not exist there); the names of the versions sent. Nothing when nothing was
    published here."""
    local = _published_refs(repo, pub)
    if pub.deploy_ref not in local:
        return []
    missing = {ref: sha for ref, sha in local.items() if pub.tracking_of(ref) not in remote}
    apply(repo, pub, [RefUpdate(ref, sha, None) for ref, sha in sorted(missing.items())])
    return sorted(_backups(missing, f"refs/heads/{BACKUP_PREFIX}"), key=_version_key)


def _mirrored_refs(pub: Publishing) -> tuple[str, ...]:
    """The refs publish reads and moves, besides the backups."""
    return pub.deploy_ref, pub.history_ref, pub.next_root_ref, NOTES_REF


def _published_refs(repo: GitRepo, pub: Publishing) -> dict[str, str]:
    """The local refs of what is published, backups included."""
    return repo.refs(*_mirrored_refs(pub), f"refs/heads/{BACKUP_PREFIX}")


def apply(repo: GitRepo, pub: Publishing, updates: list[RefUpdate]) -> None:
    """The commit point: push every ref atomically (push=1), then move the local refs to match."""
    if not updates:
        return
    if pub.push:
        repo.push(pub.remote, updates)
        tracking = [RefUpdate(pub.tracking_of(u.ref), u.new, None) for u in updates]
        repo.update_refs([RefUpdate(u.ref, u.new, None) for u in updates] + tracking, check_old=False)
    else:
        repo.update_refs(updates)


def read_record(pub: Publishing) -> dict[str, Any] | None:
    """The record of what is online: the deploy branch's version.json (versions/version.json as
    a fallback when git cannot be read)."""
    try:
        repo = GitRepo(pub.repo)
        tip = repo.rev(pub.deploy_ref) or repo.rev(pub.tracking(pub.deploy_branch))
        record = read_record_at(repo, tip) if tip else None
    except GitError:
        record = None
    if record is None and pub.record_file.exists():
        record = orjson.loads(pub.record_file.read_bytes())
    return record


def _write_record(pub: Publishing, record: dict[str, Any] | None) -> None:
    if record is not None:
        write_atomic(pub.record_file, canonical_json(record))


def published_profile(pub: Publishing) -> dict[str, Any] | None:
    """What the quality gate measured on the version online (None before the first publish)."""
    repo = open_repo(pub)
    return repo.read_json(sync(repo, pub).deploy, PROFILE)


def _next_name(existing: list[str], today: date) -> str:
    prefix = today.strftime("%Y.%m.%d.")
    n = max((int(v.rsplit(".", 1)[1]) for v in existing if v.startswith(prefix)), default=0) + 1
    return f"{prefix}{n}"


def trees(repo: GitRepo, paths: Paths, declared: set[str]) -> tuple[str, str | None]:
    """The site's tree, of exactly the files the build declares as they are in site/, and the
    history's (None before any export), taken at once.

    Temp files of a killed write never enter it; a missing declared file, or a file the build
    did not declare (a stale page of a narrower scope, a stray copy), refuses the publish."""
    site = _site_snapshots(paths)
    history = (paths.history / HISTORY_MANIFEST).exists()
    exported = [Snapshot(paths.history_index, paths.history, TEMP_FILES, COMPRESSED)] if history else []
    taken = repo.trees([*site, *exported])
    parts = taken[: len(site)]
    _check_declared(paths, declared, set().union(*(held for _, held in parts)))
    built = repo.joined(tree for tree, _ in parts) if len(parts) > 1 else parts[0][0]
    return built, taken[-1][0] if history else None


def _site_snapshots(paths: Paths) -> list[Snapshot]:
    site = [Snapshot(paths.publish_index, paths.site, TEMP_FILES, without=(PAGES,))]
    pages = paths.site / PAGES
    if pages.is_dir() and not pages.is_symlink():  # git adds a symlink as such, not what it points to
        for half, other in enumerate(reversed(PAGE_HALVES)):  # each half leaves the other out
            exclude = (*TEMP_FILES, other, f"{other}/**")
            site.append(Snapshot(paths.publish_pages_index(half), paths.site, exclude, only=PAGES))
    return site


def _check_declared(paths: Paths, declared: set[str], indexed: set[str]) -> None:
    if missing := sorted(declared - indexed):
        raise VersionError(
            f"publish: the build is incomplete: {len(missing):,} declared files are missing from "
            f"{paths.site} (e.g. {', '.join(missing[:3])}); run doit"
        )
    if extra := sorted(indexed - declared):
        raise VersionError(
            f"publish: {paths.site} holds {len(extra):,} files the build did not produce "
            f"(e.g. {', '.join(extra[:3])}); delete them or run doit, which removes them"
        )


def publish(paths: Paths, pub: Publishing, declared: set[str], now: datetime | None = None) -> dict[str, Any]:
    """Put the built site online as a new version, with the history it was built from.

    `declared` is every file under site/ the build declares (paths relative to site/). The
    caller holds the build lock, so site/ cannot change while its tree is taken."""
    now = now or datetime.now(UTC)
    repo = open_repo(pub)
    online = sync(repo, pub, send_local=True)
    record = read_record_at(repo, online.deploy) or dict(EMPTY_RECORD)
    built, history_tree = trees(repo, paths, declared)
    changed = repo.diff(online.deploy, built, exclude=DEPLOY_FILES)
    name = _next_name(online.names() + list_versions(pub), now.date())
    history = _history_commit(repo, paths, online, name, history_tree)
    if online.deploy and not changed:  # the same site: no new version, but keep the history durable
        if history != online.history:  # cut like any history move, or the next root held goes stale
            moved = [RefUpdate(pub.history_ref, history, online.history)]
            apply(repo, pub, retention.prune_history(repo, pub, online, moved))
        return {
            "version": None,
            "current": record.get("current"),
            "history_only": history != online.history,
            "sent": online.sent,
        }
    imports = store.imports_since(paths, _built_from(record))
    entry: dict[str, Any] = {
        "version": name,
        "date": _iso(now),
        "kind": "publish",
        "source_commit": repo.head_commit(),
        "batch": imports["batch"],  # the last import it was built from: the next version counts from it
        "changes": {
            **_changes(repo, changed, paths, now, imports),
            "repository_bytes": repo.size_bytes(),  # with this version's history, before its site commit
        },
    }
    record = {
        **record,
        "current": name,
        "previous": record.get("current"),
        "release": _release_text(paths),
        "commit": entry["source_commit"],
        "history": [entry, *record.get("history", [])],
    }
    tree = repo.tree_with(built, _deploy_files(paths, pub, record))
    manifest = sha256_file(paths.data_manifest) if paths.data_manifest.exists() else "none"
    message = (
        f"Publish {name}\n\nSource commit: {entry['source_commit']}\nData manifest: sha256:{manifest}\n"
        f"History tree: {history_tree or 'none'}\nRelease: {record['release']}\n"
        f"Tools: {_tool_versions()}\n"
    )
    commit = repo.commit(tree, online.deploy, message)
    updates = [
        RefUpdate(pub.backup_ref(name), commit, None),
        RefUpdate(pub.deploy_ref, commit, online.deploy),
    ]
    if history != online.history:
        updates.append(RefUpdate(pub.history_ref, history, online.history))
    versions = {**online.versions, name: commit}
    updates = retention.prune(repo, pub, online, versions, updates, record)
    apply(repo, pub, updates)
    _write_record(pub, record)
    online_now = next(u.new for u in updates if u.ref == pub.deploy_ref)  # rewritten when pruned
    return {"version": name, "commit": online_now, "sent": online.sent, **entry["changes"]}


def _history_commit(repo: GitRepo, paths: Paths, online: Online, name: str, tree: str | None) -> str | None:
    """The history branch's commit for this publish: the tip, or a new commit when the store's
    partitions (their tree: `tree`, None before any export) changed since."""
    if tree is None or (online.history and repo.tree_of(online.history) == tree):
        return online.history
    manifest = orjson.loads((paths.history / HISTORY_MANIFEST).read_bytes())
    message = (
        f"History for {name}\n\n{manifest['rows']:,} DVF rows in {len(manifest['partitions'])} partitions; "
        f"last import {manifest.get('last_import') or 'none'}\n"
    )
    return repo.commit(tree, online.history, message)


def _deploy_files(paths: Paths, pub: Publishing, record: dict[str, Any]) -> dict[str, bytes]:
    """The files that name the version going online: the record, the gate's profile, health."""
    profile = paths.profile.read_bytes() if paths.profile.exists() else canonical_json(gate.profile(paths))
    return {RECORD: canonical_json(record), PROFILE: profile, **health.render(paths, record, pub.github_repo)}


def read_record_at(repo: GitRepo, rev: str | None) -> dict[str, Any] | None:
    """The version record of a deploy commit, checked: a hand-edited or damaged version.json is
    one error line, not a crash halfway through a publish or a rollback."""
    if rev is None:
        return None
    try:
        record = repo.read_json(rev, RECORD)
    except GitError:
        raise VersionError(
            f"the deploy branch's {RECORD} ({rev[:10]}) is not JSON of a version record; "
            "restore it from a backup/ branch"
        ) from None
    if record is None:
        return None
    history = record.get("history")
    entries_ok = isinstance(history, list) and all(
        isinstance(e, dict) and isinstance(e.get("version"), str) for e in history
    )
    names_ok = all(isinstance(record.get(k), str | None) for k in ("current", "previous"))
    if not (entries_ok and names_ok):
        raise VersionError(
            f"the deploy branch's {RECORD} ({rev[:10]}) is not a version record "
            "(current, previous, history of versions); restore it from a backup/ branch"
        )
    return record


def _built_from(record: dict[str, Any]) -> int | None:
    """The import batch the version online was built from (None: nothing published, or a record
    older than this field: counted from the beginning)."""
    history = record.get("history") or [{}]
    return history[0].get("batch")


def _release_text(paths: Paths) -> str:
    return orjson.loads(paths.release.read_bytes())["text"] if paths.release.exists() else ""


def rollback(paths: Paths, pub: Publishing, target: str, now: datetime | None = None) -> dict[str, Any]:
    """Put `target` (a version, or "previous") back online: a new deploy commit "Rollback to
    <version>" with that version's tree and an updated record. site/ and the build are not
    touched: they stay the build of the current data, and the next publish supersedes this."""
    now = now or datetime.now(UTC)
    repo = open_repo(pub)
    online = sync(repo, pub, send_local=True)
    record = read_record_at(repo, online.deploy) or dict(EMPTY_RECORD)
    name = resolve(target, record, online.names())
    wanted = online.versions[name]
    changed = repo.diff(online.deploy, wanted, exclude=(RECORD,))
    if online.deploy and record.get("current") == name and not changed:
        return {
            "version": name,
            "commit": online.deploy,
            "files_changed": 0,
            "unchanged": True,
            "sent": online.sent,
        }
    entry = {
        "version": name,
        "date": _iso(now),
        "kind": "rollback",
        "from": record.get("current"),
        "batch": next((e.get("batch") for e in record["history"] if e.get("version") == name), None),
        "changes": {"files_changed": len(changed) + 1},
    }
    record = {
        **record,
        "current": name,
        "previous": record.get("current"),
        "history": [entry, *record["history"]],
    }
    tree = repo.tree_with(repo.tree_of(wanted), {RECORD: canonical_json(record)})
    message = f"Rollback to {name}\n\nFrom: {entry['from']}\nTools: {_tool_versions()}\n"
    commit = repo.commit(tree, online.deploy, message)
    apply(repo, pub, [RefUpdate(pub.deploy_ref, commit, online.deploy)])
    _write_record(pub, record)
    return {"version": name, "commit": commit, "files_changed": len(changed) + 1, "sent": online.sent}


def sent_text(pub: Publishing, sent: list[str]) -> str | None:
    """The line that says a new remote received the versions published here, if it did."""
    if not sent:
        return None
    which = f"1 version ({sent[0]})" if len(sent) == 1 else f"{len(sent)} versions ({sent[0]} to {sent[-1]})"
    return f"{pub.remote} held no site: pushed to it what was published here, {which}"


def resolve(target: str, record: dict[str, Any], known: list[str]) -> str:
    """`previous` or a version name, checked against the published versions."""
    if target == "previous":
        name = record.get("previous")
        if not name:
            raise VersionError("rollback: there is no previous version to go back to")
        if name not in known:
            raise VersionError(f"rollback: the previous version {name} is no longer kept")
        return name
    validate(target)
    if target not in known:
        shown = ", ".join(known[-5:]) or "none yet"
        raise VersionError(f"rollback: no published version {target} (latest: {shown})")
    return target


def _changes(
    repo: GitRepo,
    changed: list[Change],
    paths: Paths,
    now: datetime,
    imports: dict[str, int | None],
) -> dict[str, Any]:
    """What this version changes against the one online: communes whose figures moved, DVF rows
    the imports since then added and removed, pages and files, build time."""
    build_time = None
    if paths.changes.exists():
        started = orjson.loads(paths.changes.read_bytes()).get("started_at")
        if started:
            build_time = round((now - datetime.fromisoformat(started)).total_seconds(), 1)
    return {
        "communes_changed": _communes_changed(repo, changed),
        "sales_added": imports["added"],
        "sales_removed": imports["removed"],
        "pages_changed": sum(1 for c in changed if c.path.endswith(".html")),
        "files_changed": len(changed) + len(DEPLOY_FILES),
        "build_time": build_time,
    }


def _communes_changed(repo: GitRepo, changed: list[Change]) -> int:
    """Communes whose figures changed online (new and removed ones included). A file whose only
    change is the method's description (a setting changed, nothing moved) does not count. Reads
    only the modified files, by the blobs the diff gives, in one `git cat-file` each side (the
    benchmark's release: 0.25 s; 0.39 s from a listing of both trees)."""
    folder = DATA_DIRS["commune"] + "/"
    touched = [c for c in changed if c.path.startswith(folder)]
    both = [c for c in touched if c.status == "M"]
    old = repo.cat_blobs([c.old for c in both])
    new = repo.cat_blobs([c.new for c in both])
    moved = sum(1 for a, b in zip(old, new, strict=True) if _figures(a) != _figures(b))
    return moved + len(touched) - len(both)


def _figures(data: bytes) -> Any:
    doc = orjson.loads(data)
    if isinstance(doc, dict) and isinstance(doc.get("metadata"), dict):
        doc["metadata"].pop("method", None)
    return doc


def summary(changes: dict[str, Any]) -> str:
    """What a version changed online, in one phrase: communes, sales, files."""
    added, removed = _count(changes["sales_added"]), _count(changes["sales_removed"])
    return (
        f"{changes['communes_changed']:,} communes with new figures, {added} DVF rows added and "
        f"{removed} removed, {changes['files_changed']:,} files changed"
    )


def _count(value: int | None) -> str:
    return "?" if value is None else f"{value:,}"


def describe(pub: Publishing) -> list[str]:
    """One line per version, newest first, saying what rolling back to it would change."""
    repo = open_repo(pub)
    online = sync(repo, pub)
    record = read_record_at(repo, online.deploy) or EMPTY_RECORD
    by_name: dict[str, dict] = {}
    for entry in reversed(record.get("history", [])):
        if entry.get("kind") == "publish":
            by_name[entry["version"]] = entry
    lines = []
    for name in reversed(online.names()):
        entry = by_name.get(name, {})
        changes = entry.get("changes", {})
        if name == record.get("current"):
            mark = "current"
        else:
            diff = (
                len(repo.diff(online.deploy, online.versions[name], exclude=(RECORD,)))
                if online.deploy
                else 0
            )
            mark = f"would change {diff + 1} files"  # and the record, as rollback counts them
        lines.append(
            f"{name}  {entry.get('date', '?')}  {changes.get('communes_changed', '?')} communes changed, "
            f"{_count(changes.get('sales_added'))} DVF rows added, {_count(changes.get('sales_removed'))} "
            f"removed  ({mark})"
        )
    return lines or ["no published version yet (doit publish)"]


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _tool_versions() -> str:
    import doit
    import duckdb
    import git
    import jinja2

    return (
        f"duckdb {duckdb.__version__}, doit {'.'.join(map(str, doit.__version__))}, "
        f"jinja2 {jinja2.__version__}, gitpython {git.__version__}"
    )


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
