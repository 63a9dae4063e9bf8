"""The weekly workflow, run week after week as GitHub runs it: a fresh clone of a bare origin each
week, build/ and site/ from actions/cache (a hit, then a miss), and stand-ins on 127.0.0.1 for
data.gouv.fr, Cloudflare and Slack. The steps are read from update-data.yml (see tests/gha.py)."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path
from urllib.parse import urlsplit

import orjson
import pytest
from conftest import PARIS_ROWS, RAW_2021, LocalServer, QuietHandler
from gha import Cache, Runner, fresh_env
from test_datagouv import DataGouv
from test_ops import Stub

from rules import purge
from rules.paths import ROOT, WORKFLOW


def paris(year: int, price: int = 300000, rows: int = 5) -> str:
    """A DVF file in the raw DGFiP format: sales in Paris (a 24-page site keeps the weeks quick)."""
    header = RAW_2021.read_text("utf-8").splitlines()[0]
    body = [r.replace("/2021|", f"/{year}|").replace("300000,00", f"{price},00") for r in PARIS_ROWS[:rows]]
    return "\n".join([header, *body]) + "\n"


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True
    ).stdout.strip()


def deployed(origin: Path, rev: str = "gh-pages") -> dict[str, bytes]:
    data = subprocess.run(
        ["git", "-C", str(origin), "archive", "--format=tar", rev], capture_output=True, check=True
    )
    with tarfile.open(fileobj=io.BytesIO(data.stdout)) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}


def references(tree: dict[str, bytes]) -> set[str]:
    """Every site path a deployed page points at: links, assets, and the JSON its scripts load."""
    found = set()
    for path, data in tree.items():
        if not path.endswith(".html"):
            continue
        html = data.decode()
        found.update(re.findall(r'(?:href|src|data-src|data-index)="(/[^"#?]*)"', html))
    return found


def resolves(tree: dict[str, bytes], url: str) -> bool:
    path = url.lstrip("/")
    return path in tree or f"{path}index.html" in tree or f"{path}/index.html" in tree


def rendered(log: str) -> int:
    """Pages the build rendered, from its summary line ("render: 5 pages in 0.1 s, 32 unchanged")."""
    found = re.search(r"^render: ([\d,]+) pages? in ", log, re.MULTILINE)
    return int(found[1].replace(",", "")) if found else 0


@pytest.fixture(scope="module")
def weekly(tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("runner")
    origin = tmp / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(origin)], check=True)
    seed = tmp / "seed"  # the project as it is in this checkout, committed and pushed to origin
    listed = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "-z", "-co", "--exclude-standard"],
        capture_output=True,
        check=True,
    ).stdout.decode()
    for rel in filter(None, listed.split("\0")):
        if (ROOT / rel).is_file():
            (seed / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / rel, seed / rel)
    subprocess.run(["git", "init", "-q", "-b", "main", str(seed)], check=True)
    git(seed, "add", "-A")
    git(seed, "-c", "user.name=dev", "-c", "user.email=dev@example.org", "commit", "-qm", "the project")
    git(seed, "push", "-q", str(origin), "main")

    server, cloudflare, slack, host = DataGouv(), Stub(), Stub(), Host(origin)
    server.publish("2020", paris(2020))
    server.publish("2021", paris(2021))
    cache = Cache(tmp / "cache")
    weeks: list[Runner] = []

    def week(**inputs: object) -> Runner:
        n = len(weeks) + 1
        home = tmp / f"home-{n}"  # a fresh runner: no git identity, nothing from this machine
        home.mkdir()
        workspace = tmp / "work" / "immostats"  # the same path every week, as on GitHub
        shutil.rmtree(workspace.parent, ignore_errors=True)  # a fresh runner: nothing left over
        runner = Runner(
            workflow=WORKFLOW,
            workspace=workspace,
            origin=origin,
            cache=cache,
            venv=Path(sys.prefix),
            machine_env={
                **fresh_env(),
                "HOME": str(home),
                # Where "the internet" is, on this runner: the stand-ins.
                "IMMOSTATS_DATAGOUV_API": f"{server.base}/api/1",
                "IMMOSTATS_RETRIES": "2",
                "IMMOSTATS_BACKOFF": "0.01",
                "IMMOSTATS_PURGE_WAIT": "5",
                "CF_API_BASE": cloudflare.url,
            },
            vars={"SITE_URL": host.url, "DEPARTEMENTS": "75", **LEGAL},
            secrets={
                "CF_ZONE": "zone",
                "CF_API_TOKEN": "cf-secret",
                "SLACK_WEBHOOK_URL": slack.url + "/hook",
            },
            inputs=dict(inputs),
            run_id=1000 + n,
        )
        runner.status = runner.run_job("update")
        weeks.append(runner)
        return runner

    yield week, origin, server, cloudflare, slack, cache, host
    for s in (server, cloudflare, slack, host):
        s.close()


class Host:
    """GitHub Pages: serves origin's deploy branch, and a new deploy only after one more request
    (Pages deploys a pushed branch a minute later), so a purge that does not wait is caught."""

    def __init__(self, origin: Path) -> None:
        self.origin, self.served, self.versions = origin, "", []
        host = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:  # noqa: N802
                tip = git(host.origin, "rev-parse", "gh-pages")
                commit = host.served or tip
                host.served = tip  # the next request sees the new deploy
                path = urlsplit(self.path).path.lstrip("/")
                path = path + "index.html" if path.endswith("/") or not path else path
                blob = subprocess.run(
                    ["git", "-C", str(host.origin), "show", f"{commit}:{path}"], capture_output=True
                )
                body = blob.stdout if blob.returncode == 0 else b"not found"
                if path == "version.json":
                    host.versions.append(orjson.loads(body)["current"])
                self.reply(200 if blob.returncode == 0 else 404, body)

        self.server = LocalServer(Handler)
        self.url = self.server.url

    def close(self) -> None:
        self.server.close()


def check_online(
    origin: Path, before: str | None, cloudflare: Stub, calls_before: int, site: str
) -> dict[str, bytes]:
    """What must hold after every week that published."""
    tip = git(origin, "rev-parse", "gh-pages")
    if before:
        assert git(origin, "merge-base", "--is-ancestor", before, tip) == ""  # a fast-forward
    tree = deployed(origin)
    missing = sorted(u for u in references(tree) if not resolves(tree, u))
    assert not missing, missing[:10]
    version = orjson.loads(tree["version.json"])["current"]
    assert git(origin, "rev-parse", f"backup/{version}") == tip
    sent = [body for _, _, body in cloudflare.calls[calls_before:]]
    if before is None:
        assert sent == [{"purge_everything": True}]
    else:
        changed = git(origin, "diff", "--name-only", "--no-renames", before, tip).splitlines()
        assert sorted(u for body in sent for u in body["files"]) == purge.urls(site, changed)
    return tree


LEGAL = {  # the legal notice a public site needs (publish refuses it without)
    "PUBLISHER": "Association ImmoStats, 1 rue de l’Exemple, 75001 Paris",
    "DIRECTOR": "Camille Martin",
    "HOST": "GitHub Inc., 88 Colin P Kelly Jr St, San Francisco, CA 94107, États-Unis",
    "CONTACT": "contact@immostats.example",
}


def test_five_weeks_on_fresh_runners(weekly) -> None:
    week, origin, server, cloudflare, slack, cache, host = weekly

    # Week 1: the first release. Nothing in the cache, nothing online.
    run = week()
    assert run.status == "success", run.log("Publish") + run.log("Build")
    assert run.outcome("Restore build/ and site/") == "success" and not cache.keys[:-1]
    tree = check_online(origin, None, cloudflare, 0, host.url)
    assert git(origin, "rev-parse", "--verify", "dvf-history") and len(slack.calls) == 1
    first_tip, calls = git(origin, "rev-parse", "gh-pages"), len(cloudflare.calls)

    # Week 2: nothing new on data.gouv.fr. No download, no build, no publish, no purge, no message.
    server.requests.clear()
    run = week()
    assert run.status == "success" and run.outcome("Build") == "skipped"
    assert server.file_requests() == [] and git(origin, "rev-parse", "gh-pages") == first_tip
    assert (len(cloudflare.calls), len(slack.calls)) == (calls, 1)

    # The same week, forced by hand (after a template fix, say): every page is rendered again, the
    # log stays short (doit forget says a line per page), and the same site is not published again.
    run = week(force=True)
    assert run.status == "success" and rendered(run.log("Build")) >= 20, run.log("Build")
    assert "forgetting" not in run.log("Build") and len(run.log("Build").splitlines()) < 20
    assert "nothing to publish" in run.log("Publish") and git(origin, "rev-parse", "gh-pages") == first_tip
    assert (len(cloudflare.calls), len(slack.calls)) == (calls, 2)  # nothing to purge; the run is told

    # Week 3: a new release (one price corrected), build/ and site/ from the cache: only the places
    # whose figures moved are rendered again, and only what changed online is purged.
    server.publish("2021", paris(2021, price=310000), stamp="20261020-000000")
    run = week()
    assert run.status == "success", run.log("Publish") + run.log("Build")
    assert run.steps["publish"].outputs["version"].endswith(".2")
    assert host.versions[-2:] == [host.versions[-2], run.steps["publish"].outputs["version"]]
    assert host.versions[-2] != host.versions[-1]  # the purge waited for the new deploy to be served
    # At most the arrondissement whose sale changed, its city, department, region and France.
    assert 1 <= rendered(run.log("Build")) <= 5
    moved = git(origin, "diff", "--name-only", first_tip, "gh-pages").split()
    assert "data/villes/75101.json" in moved and "data/villes/75102.json" not in moved
    tree = check_online(origin, first_tip, cloudflare, calls, host.url)
    sales_2020 = orjson.loads(tree["data/france.json"])["volumes"]["2020"]
    second_tip, calls = git(origin, "rev-parse", "gh-pages"), len(cloudflare.calls)

    # Week 4: the cache is gone, and DVF's window moved: 2020 is no longer published, 2022 is new.
    cache.clear()
    server.withdraw("2020")
    server.publish("2022", paris(2022), stamp="20261027-000000")
    run = week()
    assert run.status == "success", run.log("Publish") + run.log("Build")
    assert "history: restored dvf.duckdb from git (origin/dvf-history)" in run.log("Build")
    tree = check_online(origin, second_tip, cloudflare, calls, host.url)
    volumes = orjson.loads(tree["data/france.json"])["volumes"]
    assert volumes["2020"] == sales_2020 and "2022" in volumes  # the year DVF dropped is still counted
    history = orjson.loads(deployed(origin, "dvf-history")["manifest.json"])
    assert {p["annee"] for p in history["partitions"].values()} == {2020, 2021, 2022}
    assert len(slack.calls) == 4 and "réussie" in slack.calls[-1][2]["text"]  # weeks 1, 2 forced, 3, 4
    fields = [f["text"] for f in slack.calls[-1][2]["attachments"][0]["blocks"][1]["fields"]]
    assert any(re.fullmatch("\\*Taille du dépôt\\*\n[0-9,]+\u202fMo", f) for f in fields), fields
    record = orjson.loads(tree["version.json"])
    assert [h["version"][-1] for h in record["history"]] == ["3", "2", "1"]
    assert orjson.loads(tree["api/health.json"])["repository_bytes"] > 0
    third_tip, calls = git(origin, "rev-parse", "gh-pages"), len(cloudflare.calls)

    # Week 5: a broken release (2022 collapses to one row). The gate holds it back, the site online
    # stays as it was, nothing is purged, and the message says why.
    server.publish("2022", paris(2022, rows=1), stamp="20261103-000000")
    run = week()
    assert run.status == "failure" and run.outcome("Publish") == "failure"
    held = "quality gate: not published, the previous version stays online: 2022: 5 -> 1 rows (-80%)"
    assert held in run.log("Publish")
    assert run.outcome("Purge the CDN") == "skipped" and len(cloudflare.calls) == calls
    assert git(origin, "rev-parse", "gh-pages") == third_tip
    message = slack.calls[-1][2]
    assert "en échec" in message["text"] and "2022: 5 -> 1 rows" in str(message)

    # Week 6: a release the download refuses (an error page). The message names the failed build,
    # not the quality gate of week 5 that build/gate.json, restored from the cache, still holds.
    server.publish("2023", "<!doctype html><html><body>Maintenance</body></html>\n", stamp="20261110-000000")
    run = week()
    assert run.status == "failure" and run.outcome("Build") == "failure", run.log("Build")
    message = str(slack.calls[-1][2])
    assert "build en échec (téléchargement" in message and "quality gate" not in message, message
