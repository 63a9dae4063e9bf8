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
    folders left empty; returns how many files went."""
    if not site.is_dir():
        return 0
    removed = 0
    for folder, _, names in os.walk(site, topdown=False):
        base = Path(folder)
        relative = base.relative_to(site).as_posix()
        for name in names:
            path = name if relative == "." else f"{relative}/{name}"
            if path not in declared:
                (base / name).unlink()
                removed += 1
        if base != site and not any(base.iterdir()):
            base.rmdir()
    if removed:
        print(f"tidy: removed {removed:,} files the build no longer produces from {site}")
    return removed
