"""Step outputs for GitHub Actions, in a module of its own: the data.gouv.fr check writes one, so
its module is an input of the tasks that reach rules/datagouv.py (rules/codedeps.py), which doit's
edge (rules/doitedge.py, the reporter) should not be."""

from __future__ import annotations

import os


def github_output(**values: str) -> None:
    """Step outputs for GitHub Actions (`name=value` lines in $GITHUB_OUTPUT); nothing elsewhere."""
    target = os.environ.get("GITHUB_OUTPUT")
    if target:
        with open(target, "a", encoding="utf-8") as f:
            f.writelines(f"{name}={value}\n" for name, value in values.items())
