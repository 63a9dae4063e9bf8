"""CDN purge and notifications, against real HTTP servers on 127.0.0.1 standing in for
Cloudflare, Slack and Discord."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import orjson
import pytest

from rules import notify, purge
from rules.files import canonical_json

SECRET = "cf-secret-token-123"


class Stub:
    """Records every request; answers from a scripted list of (status, body, headers)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict, dict]] = []
        self.replies: list[tuple[int, bytes, dict]] = []
        self.default = (200, b'{"success": true, "errors": [], "messages": [], "result": {"id": "x"}}', {})
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                stub.calls.append((self.path, dict(self.headers), orjson.loads(body)))
                status, reply, headers = stub.replies.pop(0) if stub.replies else stub.default
                self.send_response(status)
                for k, v in {"Content-Length": str(len(reply)), **headers}.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(reply)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def stub() -> Iterator[Stub]:
    s = Stub()
    yield s
    s.close()


def _purge_files(tmp: Path, n: int) -> tuple[Path, Path]:
    todo = tmp / "purge.json"
    paths = [f"ville/{i:05d}/index.html" for i in range(n // 2)] + [
        f"data/villes/{i:05d}.json" for i in range(n - n // 2)
    ]
    todo.write_bytes(canonical_json({"version": "2026.11.24.1", "paths": paths}))
    return todo, tmp / "purged.json"


def test_purge_batches_changed_urls_with_the_token(stub: Stub, tmp_path: Path) -> None:
    todo, done = _purge_files(tmp_path, 50)
    env = {"CF_ZONE": "zone1", "CF_API_TOKEN": SECRET, "CF_API_BASE": stub.url}
    lines: list[str] = []
    n = purge.purge(
        todo, done, "https://x.example", purge.Cloudflare.from_env(env), batch=30, log=lines.append
    )
    assert n == 75  # 25 pages (file and folder URL) + 25 JSON files
    assert [len(c[2]["files"]) for c in stub.calls] == [30, 30, 15]
    assert all(c[0] == "/zones/zone1/purge_cache" for c in stub.calls)
    assert all(c[1]["Authorization"] == f"Bearer {SECRET}" for c in stub.calls)
    assert "https://x.example/ville/00000/" in stub.calls[0][2]["files"]
    assert SECRET not in " ".join(lines)
    purge.purge(todo, done, "https://x.example", cf=purge.Cloudflare.from_env(env), log=lines.append)
    assert len(stub.calls) == 3 and "already purged" in lines[-1]


def test_purge_retries_429_and_5xx_and_checks_success(stub: Stub, tmp_path: Path) -> None:
    todo, done = _purge_files(tmp_path, 4)
    cf = purge.Cloudflare("z", {"X-Auth-Email": "a@b.example", "X-Auth-Key": SECRET}, stub.url)
    stub.replies = [(429, b"{}", {"Retry-After": "0"}), (502, b"bad gateway", {})]
    assert purge.purge(todo, done, "https://x.example", cf=cf, backoff=0.01, log=lambda _: None) == 6
    assert len(stub.calls) == 3 and stub.calls[0][1]["X-Auth-Key"] == SECRET
    done.unlink()
    stub.replies = [
        (
            200,
            b'{"success": false, "errors": [{"code": 1012, "message": "Request must contain files"}]}',
            {},
        )
    ]
    with pytest.raises(purge.PurgeError, match="1012") as info:
        purge.purge(todo, done, "https://x.example", cf=cf, backoff=0.01, log=lambda _: None)
    assert SECRET not in str(info.value) and not done.exists()


def test_purge_not_configured_does_nothing(tmp_path: Path) -> None:
    todo, done = _purge_files(tmp_path, 4)
    lines: list[str] = []
    assert purge.Cloudflare.from_env({"CF_ZONE": "z"}) is None
    assert purge.purge(todo, done, "https://x.example", purge.Cloudflare.from_env({}), log=lines.append) == 0
    assert "not configured" in lines[-1]


RECORD: dict = {
    "history": [
        {
            "version": "2026.11.24.1",
            "changes": {
                "cities_updated": 1250,
                "new_transactions": 15420,
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
    assert {"type": "mrkdwn", "text": "*Communes mises à jour*\n1250"} in fields
    embed = discord["embeds"][0]
    assert (
        embed["color"] == 0x2ECC71
        and {"name": "Nouvelles ventes", "value": "15420", "inline": True} in embed["fields"]
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
