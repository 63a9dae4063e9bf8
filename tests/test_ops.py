"""CDN purge and notifications, against real HTTP servers on 127.0.0.1 standing in for
Cloudflare, Slack and Discord."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from conftest import LocalServer, QuietHandler

from rules import notify, purge, versions
from rules.publishing import Publishing

SECRET = "cf-secret-token-123"


class Stub:
    """Records every request; answers from a scripted list of (status, body, headers)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict, dict]] = []
        self.replies: list[tuple[int, bytes, dict]] = []
        self.default = (200, b'{"success": true, "errors": [], "messages": [], "result": {"id": "x"}}', {})
        stub = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                stub.calls.append((self.path, dict(self.headers), orjson.loads(body)))
                self.reply(*(stub.replies.pop(0) if stub.replies else stub.default))

        self.server = LocalServer(Handler)
        self.url = self.server.url

    def close(self) -> None:
        self.server.close()


@pytest.fixture
def stub() -> Iterator[Stub]:
    s = Stub()
    yield s
    s.close()


def deploy(repo: Path, files: dict[str, str], branch: str = "gh-pages") -> str:
    """A deploy commit of `files` on top of `branch`, made with git itself (as a publish would)."""
    work, index = repo.parent / "deploy-work", repo.parent / "deploy.index"
    shutil.rmtree(work, ignore_errors=True)
    for path, text in files.items():
        (work / path).parent.mkdir(parents=True, exist_ok=True)
        (work / path).write_text(text)
    env = {**os.environ, "GIT_INDEX_FILE": str(index), "GIT_WORK_TREE": str(work)}

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(repo), *args], env=env, capture_output=True, text=True, check=True
        ).stdout.strip()

    git("add", "--all", "--force", ".")
    parent = subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "-q", "--verify", branch], capture_output=True, text=True
    ).stdout.strip()
    commit = git("commit-tree", git("write-tree"), *(["-p", parent] if parent else []), "-m", "deploy")
    git("update-ref", f"refs/heads/{branch}", commit)
    return commit


def site_files(n: int, version: str) -> dict[str, str]:
    files = {f"ville/{i:05d}/index.html": version for i in range(n // 2)}
    files.update({f"data/villes/{i:05d}.json": version for i in range(n - n // 2)})
    return {"index.html": "home", **files}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    path = tmp_path / "repo"
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True)
    return path


def test_purge_batches_what_changed_online_since_the_last_purge(stub: Stub, repo: Path) -> None:
    pub = Publishing(repo=repo)
    env = {"CF_ZONE": "zone1", "CF_API_TOKEN": SECRET, "CF_API_BASE": stub.url}
    lines: list[str] = []
    deploy(repo, site_files(50, "v1"))
    assert purge.purge(pub, "https://x.example", purge.Cloudflare.from_env(env), log=lines.append) == -1
    assert [c[2] for c in stub.calls] == [{"purge_everything": True}]  # nothing marked yet
    deploy(repo, site_files(50, "v2"))  # two publishes nobody purged: both are covered
    deploy(repo, {**site_files(50, "v2"), "index.html": "home 3"})
    stub.calls.clear()
    n = purge.purge(pub, "https://x.example", purge.Cloudflare.from_env(env), batch=30, log=lines.append)
    assert n == 77  # 25 pages (file and folder URL) + 25 JSON files + the home page (/ and /index.html)
    assert [len(c[2]["files"]) for c in stub.calls] == [30, 30, 17]
    assert all(c[0] == "/zones/zone1/purge_cache" for c in stub.calls)
    assert all(c[1]["Authorization"] == f"Bearer {SECRET}" for c in stub.calls)
    assert "https://x.example/ville/00000/" in stub.calls[0][2]["files"]
    assert SECRET not in " ".join(lines)
    purge.purge(pub, "https://x.example", purge.Cloudflare.from_env(env), log=lines.append)
    assert len(stub.calls) == 3 and "already purged" in lines[-1]


def test_purge_retries_429_and_5xx_and_checks_success(stub: Stub, repo: Path) -> None:
    pub = Publishing(repo=repo)
    cf = purge.Cloudflare("z", {"X-Auth-Email": "a@b.example", "X-Auth-Key": SECRET}, stub.url)
    deploy(repo, site_files(4, "v1"))
    purge.purge(pub, "https://x.example", cf=cf, log=lambda _: None)
    deploy(repo, site_files(4, "v2"))
    stub.calls.clear()
    stub.replies = [(429, b"{}", {"Retry-After": "0"}), (502, b"bad gateway", {})]
    assert purge.purge(pub, "https://x.example", cf=cf, backoff=0.01, log=lambda _: None) == 6
    assert len(stub.calls) == 3 and stub.calls[0][1]["X-Auth-Key"] == SECRET
    deploy(repo, site_files(4, "v3"))
    stub.replies = [
        (
            200,
            b'{"success": false, "errors": [{"code": 1012, "message": "Request must contain files"}]}',
            {},
        )
    ]
    with pytest.raises(purge.PurgeError, match="1012") as info:
        purge.purge(pub, "https://x.example", cf=cf, backoff=0.01, log=lambda _: None)
    assert SECRET not in str(info.value)
    stub.calls.clear()
    purge.purge(pub, "https://x.example", cf=cf, log=lambda _: None)  # the failed purge is repeated
    assert len(stub.calls[0][2]["files"]) == 6


def test_purge_not_configured_does_nothing(repo: Path) -> None:
    deploy(repo, site_files(4, "v1"))
    lines: list[str] = []
    assert purge.Cloudflare.from_env({"CF_ZONE": "z"}) is None
    assert (
        purge.purge(
            Publishing(repo=repo), "https://x.example", purge.Cloudflare.from_env({}), log=lines.append
        )
        == 0
    )
    assert "not configured" in lines[-1]


RECORD: dict = {
    "history": [
        {
            "version": "2026.11.24.1",
            "changes": {
                "communes_changed": 1250,
                "sales_added": 15420,
                "sales_removed": 12,
                "files_changed": 2600,
                "build_time": 41.5,
            },
        }
    ]
}


def test_notifications_in_the_documented_formats(stub: Stub) -> None:
    stub.replies = [(200, b"ok", {}), (204, b"", {})]
    env = {
        "SLACK_WEBHOOK_URL": stub.url + "/services/T0/B0/secret",
        "DISCORD_WEBHOOK_URL": stub.url + "/api/webhooks/1/tok",
    }
    lines: list[str] = []
    assert notify.send(notify.summary(RECORD, "success"), "success", env=env, log=lines.append) == 2
    (slack_path, _, slack), (discord_path, _, discord) = stub.calls
    assert slack_path.endswith("/secret") and "2026.11.24.1" in slack["text"]
    fields = slack["attachments"][0]["blocks"][1]["fields"]
    assert {"type": "mrkdwn", "text": "*Communes aux chiffres modifiés*\n1\u202f250"} in fields
    embed = discord["embeds"][0]
    assert (
        embed["color"] == 0x2ECC71
        and {"name": "Lignes DVF ajoutées", "value": "15\u202f420", "inline": True} in embed["fields"]
        and {"name": "Lignes DVF retirées", "value": "12", "inline": True} in embed["fields"]
    )
    assert lines == []


def test_a_failed_notification_is_reported_and_never_raises(stub: Stub) -> None:
    stub.replies = [(500, b"no", {}), (400, b'{"code": 50035}', {})]
    env = {
        "SLACK_WEBHOOK_URL": stub.url + "/hook-secret",
        "DISCORD_WEBHOOK_URL": stub.url + "/discord-secret",
    }
    lines: list[str] = []
    fields = notify.summary(RECORD, "failure", error="x" * 10_000)
    assert notify.send(fields, "failure", env=env, log=lines.append) == 0
    assert len(lines) == 2 and all("not delivered" in ln for ln in lines)
    assert not any("secret" in ln for ln in lines)
    embed = stub.calls[1][2]["embeds"][0]
    assert embed["color"] == 0xE74C3C
    assert all(len(f["value"]) <= 1024 for f in embed["fields"])
    assert len(embed["title"]) + sum(len(f["name"]) + len(f["value"]) for f in embed["fields"]) <= 6000


def test_notifications_not_configured_send_nothing() -> None:
    lines: list[str] = []
    assert notify.send(notify.summary(None, "success"), "success", env={}, log=lines.append) == 0
    assert "not configured" in lines[0]


@pytest.mark.parametrize(
    ("reply", "problem"),
    [
        ((200, b"[1, 2]", {}), "HTTP 200, not a Cloudflare API reply"),
        ((200, b'{"success": "yes", "errors": "none"}', {}), "CDN purge refused (HTTP 200): no detail"),
        (
            (307, b"", {"Location": "http://127.0.0.2:9/elsewhere"}),
            "redirects are not followed with credentials",
        ),
    ],
    ids=["a list", "success as text", "a redirect elsewhere"],
)
def test_a_strange_purge_reply_is_one_line_and_the_purge_is_not_recorded(
    stub: Stub, repo: Path, reply: tuple, problem: str
) -> None:
    pub = Publishing(repo=repo)
    cf = purge.Cloudflare("z", {"X-Auth-Email": "a@b.example", "X-Auth-Key": SECRET}, stub.url)
    deploy(repo, site_files(4, "v1"))
    stub.replies = [reply]
    with pytest.raises(purge.PurgeError) as info:
        purge.purge(pub, "https://x.example", cf=cf, backoff=0.01, log=lambda _: None)
    assert problem in str(info.value) and SECRET not in str(info.value)
    assert len(stub.calls) == 1  # a redirect is not followed: the key went to the API's host only
    stub.calls.clear()
    purge.purge(pub, "https://x.example", cf=cf, log=lambda _: None)  # nothing was marked: done again
    assert stub.calls[0][2] == {"purge_everything": True}


@pytest.mark.parametrize(
    "record",
    ['{"current": 3, "history": "none"}', '{"history": [{"no": "version"}]}', "not json at all", "[1, 2]"],
    ids=["wrong types", "entries without versions", "not JSON", "a list"],
)
def test_a_damaged_record_online_is_one_line(repo: Path, record: str) -> None:
    deploy(repo, {**site_files(4, "v1"), "version.json": record})
    with pytest.raises(versions.VersionError) as info:
        purge.purge(
            Publishing(repo=repo), "https://x.example", purge.Cloudflare("z", {}, "http://x"), log=print
        )
    message = str(info.value)
    assert "version.json" in message and "\n" not in message
