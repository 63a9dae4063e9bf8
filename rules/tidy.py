"""Keep site/ to exactly what the build declares.

A narrower scope (`departements=01` after a full build), a renamed asset or a killed atomic write
(`.index.html.x1y2.tmp`) leaves files no task owns; published, they would be stale pages whose
links break. The build removes them, and publish refuses a site/ that still holds any.
"""

from __future__ import annotations

import os
from pathlib import Path


def remove_undeclared(site: Path, declared: set[str]) -> int:
    """Delete the files under `site` that are not in `declared` (paths relative to it), then the
    folders left empty; returns how many files went. A folder is known empty from the walk itself
    (no file kept, every subfolder removed), not listed again: 35,000 page folders, 0.9 s."""
    if not site.is_dir():
        return 0
    root = os.fspath(site)
    removed = 0
    gone: set[str] = set()  # folders removed
    for folder, subfolders, names in os.walk(root, topdown=False):
        prefix = "" if folder == root else folder[len(root) + 1 :] + "/"
        kept = False
        for name in names:
            if prefix + name in declared:
                kept = True
            else:
                os.unlink(os.path.join(folder, name))
                removed += 1
        if folder != root and not kept and all(os.path.join(folder, d) in gone for d in subfolders):
            os.rmdir(folder)
            gone.add(folder)
    if removed:
        print(f"tidy: removed {removed:,} files the build no longer produces from {site}")
    return removed
