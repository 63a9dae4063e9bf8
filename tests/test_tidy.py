"""site/ kept to exactly the files the build declares (rules/tidy.py)."""

from __future__ import annotations

import os
from pathlib import Path

from rules import tidy


def _tree(site: Path) -> set[str]:
    return {p.relative_to(site).as_posix() + ("/" if p.is_dir() else "") for p in site.rglob("*")}


def test_undeclared_files_and_the_folders_they_leave_empty_go(tmp_path: Path) -> None:
    site = tmp_path / "site"
    for rel in [
        "index.html",
        "ville/01053/index.html",  # kept
        "ville/01053/.index.html.3f2a-1.tmp",  # a killed write: goes, its folder stays
        "ville/75056/index.html",  # a narrower scope: goes with its folder
        "ville/75056/carte/plan.svg",  # and a folder inside it
        "departement/75/index.html",  # the whole branch goes
        "assets/old.css",  # goes; assets/ keeps the new one
        "assets/site.css",
    ]:
        (site / rel).parent.mkdir(parents=True, exist_ok=True)
        (site / rel).write_text(rel)
    (site / "empty" / "inside").mkdir(parents=True)  # empty folders go too
    (site / "linked").mkdir()
    os.symlink(tmp_path, site / "linked" / "elsewhere")  # not a file: left, and so is its folder
    declared = {"index.html", "ville/01053/index.html", "assets/site.css", "linked/elsewhere"}
    assert tidy.remove_undeclared(site, declared) == 5
    assert _tree(site) == {
        "index.html",
        "ville/",
        "ville/01053/",
        "ville/01053/index.html",
        "assets/",
        "assets/site.css",
        "linked/",
        "linked/elsewhere/",
    }
    assert tidy.remove_undeclared(site, declared) == 0


def test_an_empty_or_missing_site_is_left_as_it_is(tmp_path: Path) -> None:
    assert tidy.remove_undeclared(tmp_path / "missing", set()) == 0
    (tmp_path / "site").mkdir()
    assert tidy.remove_undeclared(tmp_path / "site", set()) == 0 and (tmp_path / "site").is_dir()
