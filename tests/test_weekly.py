"""The weekly loop, end to end, as the workflow runs it, against local stand-ins for data.gouv.fr,
Cloudflare and Slack: a first publish, a week with nothing new, a new release, and a release that
the quality gate holds back."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from conftest import RAW_2020, RAW_2021, run_doit
from test_datagouv import DataGouv
from test_ops import Stub

from rules import gate, versions
from rules.paths import Paths


def test_gate_rules() -> None:
    old = {
        "rows_by_year": {"2020": 1000, "2021": 1000},
        "rows_by_year_dep": {"2020:01": 1000, "2021:01": 1000},
        "funnel": {
            y: {"rows": 1000, "deduped": 950, "natures_kept": 900, "single_good": 500, "priced": 400}
            for y in ("2020", "2021")
        },
        "unknown_rows": 0,
        "medians": {"01": {"appartement": 2000, "maison": 1800}},
    }
    assert gate.checks(old, old, gate.Limits()) == []
    assert gate.checks(old, None, gate.Limits()) == []  # first publish: nothing to compare with
    collapsed = {
        **old,
        "rows_by_year": {"2020": 1000, "2021": 100},
        "rows_by_year_dep": {"2020:01": 1000, "2021:01": 100},
    }
    failed = gate.checks(collapsed, old, gate.Limits())
    assert failed == ["2021: 1,000 -> 100 rows (-90%)", "2021, département 01: 1,000 -> 100 rows"]
    # A release where far fewer rows survive the single-good filter (lots split differently, say):
    funnel = {y: dict(v) for y, v in old["funnel"].items()}
    funnel["2021"].update(single_good=300, priced=250)
    assert gate.checks({**old, "funnel": funnel}, old, gate.Limits()) == [
        "2021: 50 % of rows were single-flat or single-house sales, now 30 %",
        "2021: 40 % of rows became published sales, now 25 %",
    ]
    jumped = {**old, "medians": {"01": {"appartement": 3500, "maison": 1800}}}
    assert gate.checks(jumped, old, gate.Limits()) == [
        "département 01, appartement: median 2,000 -> 3,500 EUR/m2"
    ]
    unknown = {**old, "unknown_rows": 50}
    assert gate.checks(unknown, None, gate.Limits()) == ["50 rows (2.5%) have an unknown commune code"]
    withdrawn = {**old, "rows_by_year": {"2021": 1000}, "rows_by_year_dep": {"2021:01": 1000}}
    assert gate.checks(withdrawn, old, gate.Limits()) == []  # a year no longer published is kept, not lost


@pytest.fixture
def loop(tmp_path: Path):
    server, cloudflare, slack = DataGouv(), Stub(), Stub()
    server.publish("2020", RAW_2020.read_text("utf-8"))
    server.publish("2021", RAW_2021.read_text("utf-8"))
    repo = tmp_path / "repo"
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    paths = Paths.of(tmp_path / "build", repo / "site")
    outputs = tmp_path / "github_output"
    env = {
        "GITHUB_OUTPUT": str(outputs),
        "CF_ZONE": "zone",
        "CF_API_TOKEN": "cf-token",
        "CF_API_BASE": cloudflare.url,
        "SLACK_WEBHOOK_URL": slack.url + "/services/hook",
    }
    common = (
        "source=datagouv",
        f"datagouv_api={server.base}/api/1",
        "departements=01",
        f"repo={repo}",
        "site_url=https://x.example",
        "retries=2",
        "backoff=0.01",
    )

    def week() -> str:
        """One run of the workflow's steps: check; if new, build+gate+publish, purge; notify."""
        run_doit(paths, "check", *common, env=env)
        if outputs.read_text().splitlines()[-1] != "has_updates=true":
            return "nothing new"
        published = run_doit(paths, "publish", *common, check=False, env=env)
        status = "success" if published.returncode == 0 else "failure"
        if status == "success":
            run_doit(paths, "purge", *common, env=env)
        run_doit(paths, "notify", *common, f"status={status}", env=env)
        return status if status == "success" else published.stderr

    yield server, cloudflare, slack, repo, week
    for s in (server, cloudflare, slack):
        s.close()


def test_the_weekly_loop(loop) -> None:
    server, cloudflare, slack, repo, week = loop
    pub = versions.Publishing(repo=repo)
    assert week() == "success"
    assert len(versions.list_versions(pub)) == 1 and len(cloudflare.calls) > 0 and len(slack.calls) == 1

    purges, notes = len(cloudflare.calls), len(slack.calls)
    server.requests.clear()
    assert week() == "nothing new"  # no download, no build, no publish, no purge, no message
    assert server.file_requests() == [] and len(versions.list_versions(pub)) == 1
    assert (len(cloudflare.calls), len(slack.calls)) == (purges, notes)

    server.publish(
        "2021", RAW_2021.read_text("utf-8").replace("204332,00", "214332,00"), stamp="20261020-000000"
    )
    assert week() == "success"
    assert len(versions.list_versions(pub)) == 2
    sent = [u for _, _, body in cloudflare.calls[purges:] for u in body["files"]]
    assert "https://x.example/data/villes/01065.json" in sent and len(sent) < 20  # only what changed
    deployed = subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "gh-pages"], capture_output=True, text=True
    ).stdout

    # A broken release: 2021 collapses to 5 rows. The gate holds it back and says why.
    lines = RAW_2021.read_text("utf-8").splitlines()
    server.publish("2021", "\n".join(lines[:6]) + "\n", stamp="20261027-000000")
    error = week()
    assert "quality gate: not published, the previous version stays online: 2021: 41 -> 5 rows" in error
    assert len(versions.list_versions(pub)) == 2
    assert (
        subprocess.run(
            ["git", "-C", str(repo), "rev-parse", "gh-pages"], capture_output=True, text=True
        ).stdout
        == deployed
    )
    message = slack.calls[-1][2]
    assert "en échec" in message["text"] and "2021: 41 -> 5 rows" in str(message)
