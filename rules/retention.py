"""Keep the repository's growth bounded: `keep_versions` backups, `keep_history` history commits.

Every version that moves the headline window re-renders the whole site, and every release that
republishes a year rewrites that year's partitions, so keeping everything forever makes the
repository grow by that much each time. With more than `keep_versions` versions (never counting
out the current and previous ones), the oldest backup branches are deleted and the deploy branch
is rewritten to start at the oldest version kept: the same trees, messages and dates, so the site
online does not change and a rerun gives the same commits. The history branch keeps its last
`keep_history` commits the same way. The rewritten refs go out in publish's one atomic push,
each guarded by the value it replaces (`--force-with-lease`), so a concurrent publish is never
overwritten.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rules.gitrepo import GitRepo, RefUpdate
from rules.publishing import NOTES_REF, Publishing

if TYPE_CHECKING:
    from rules.versions import Online


def prune(
    repo: GitRepo,
    pub: Publishing,
    online: Online,
    versions: dict[str, str],
    updates: list[RefUpdate],
    record: dict[str, Any],
) -> list[RefUpdate]:
    """`updates` (this publish's ref moves), rewritten to also drop what retention lets go: keep
    `keep_versions` backups (and the current and previous ones), the deploy branch starting at the
    oldest kept; then the history branch's last `keep_history` commits."""
    names = sorted(versions, key=lambda n: tuple(int(x) for x in n.split(".")))
    keep = set(names[-pub.keep_versions :]) | {
        v for v in (record.get("current"), record.get("previous")) if v
    }
    drop = [n for n in names if n not in keep]
    tip = next(u.new for u in updates if u.ref == pub.deploy_ref)
    if not drop or tip is None:
        return prune_history(repo, pub, online, updates)
    chain = repo.first_parents(tip)
    position = {c: i for i, c in enumerate(chain)}
    if any(versions[n] not in position for n in keep):  # not on the deploy chain: leave the layout alone
        return prune_history(repo, pub, online, updates)
    oldest = max(position[versions[n]] for n in keep)
    note = f"Earlier versions pruned (keep_versions={pub.keep_versions})."
    deploy_map = _rewrite(repo, list(reversed(chain[: oldest + 1])), note) if oldest < len(chain) - 1 else {}
    out = [u for u in updates if u.ref != pub.deploy_ref and not u.ref.startswith(pub.backup_ref(""))]
    for n in sorted(keep, key=names.index):
        new, old = deploy_map.get(versions[n], versions[n]), online.versions.get(n)
        if new != old:
            out.append(RefUpdate(pub.backup_ref(n), new, old, force=True))
    out += [
        RefUpdate(pub.backup_ref(n), None, online.versions[n], force=True)
        for n in drop
        if n in online.versions
    ]
    out.append(RefUpdate(pub.deploy_ref, deploy_map.get(tip, tip), online.deploy, force=bool(deploy_map)))
    notes = _carry_purge_mark(repo, online, deploy_map)
    if notes:
        out.append(RefUpdate(NOTES_REF, notes, online.notes))
    return prune_history(repo, pub, online, out)


def prune_history(
    repo: GitRepo, pub: Publishing, online: Online, updates: list[RefUpdate]
) -> list[RefUpdate]:
    """Keep the history branch's last `keep_history` commits. Its tip alone holds every year ever
    imported (the store never drops a period), so the older commits are only earlier states of
    periods that were republished since: kept for a while, not forever.

    Cutting the branch makes a new root, and git's push looks for what the remote already holds
    only among the parents of what it sends: a new root went with every object of its tree, the
    whole history again (396 MB of push for a France release whose partitions changed by 68 MB).
    So each publish also leaves on the remote, as `<history>-next-root`, the root the next cut
    will make (the same commit: a rewrite is deterministic); the next cut's commits then have a
    parent the remote holds, and the push sends only what changed."""
    move = next((u for u in updates if u.ref == pub.history_ref), None)
    tip = move.new if move else online.history
    if tip is None:
        return updates
    keep = pub.keep_history
    chain = repo.first_parents(tip)
    note = f"Earlier history pruned (keep_history={keep})."
    if len(chain) > keep:
        rewritten = _rewrite(repo, list(reversed(chain[:keep])), note)
        chain = [rewritten[c] for c in chain[:keep]]
        rest = [u for u in updates if u.ref != pub.history_ref]
        updates = [*rest, RefUpdate(pub.history_ref, chain[0], online.history, force=True)]
    if keep >= 2 and len(chain) == keep:  # the next history commit will cut this chain at its end
        oldest_kept = chain[keep - 2]
        root = _rewrite(repo, [oldest_kept], note)[oldest_kept]
        if root != online.next_root:
            updates.append(RefUpdate(pub.next_root_ref, root, online.next_root, force=True))
    elif keep < 2 and online.next_root:  # no cut will start at it: it would only hold old partitions
        updates.append(RefUpdate(pub.next_root_ref, None, online.next_root, force=True))
    return updates


def _rewrite(repo: GitRepo, oldest_first: list[str], note: str) -> dict[str, str]:
    """The same commits on a new root: same trees, messages, authors and dates (so the same
    inputs give the same new commits), the first one saying that what came before is gone."""
    mapping: dict[str, str] = {}
    parent = None
    for i, commit in enumerate(oldest_first):
        fields = repo.run("log", "-1", "--format=%T%x00%an%x00%ae%x00%aI%x00%cn%x00%ce%x00%cI%x00%B", commit)
        tree, an, ae, ad, cn, ce, cd, message = fields.split("\0", 7)
        if i == 0 and note not in message:
            message = f"{message.rstrip()}\n\n{note}\n"
        env = {
            "GIT_AUTHOR_NAME": an,
            "GIT_AUTHOR_EMAIL": ae,
            "GIT_AUTHOR_DATE": ad,
            "GIT_COMMITTER_NAME": cn,
            "GIT_COMMITTER_EMAIL": ce,
            "GIT_COMMITTER_DATE": cd,
        }
        parent = mapping[commit] = repo.commit(tree, parent, message.rstrip() + "\n", env=env)
    return mapping


def _carry_purge_mark(repo: GitRepo, online: Online, deploy_map: dict[str, str]) -> str | None:
    """The CDN purge mark follows its deploy commit to the rewritten one."""
    marked = [c for c in repo.annotated(NOTES_REF) if c in deploy_map]
    notes = online.notes
    for old in marked:
        notes = repo.note(notes, deploy_map[old], copy_from=old)
    return notes if notes != online.notes else None
