"""The one HTTP client against a hostile server on 127.0.0.1: bounded retries, redirects, size and
time; credentials never follow a redirect."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import LocalServer, QuietHandler

from rules import http

QUICK = http.Client(connect_timeout=1, read_timeout=0.5, attempts=2, backoff=0.01)


class Hostile:
    """Each path is one kind of misbehaviour; every request is recorded with its headers."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, dict[str, str]]] = []
        hostile = self

        class Handler(QuietHandler):
            def handle_one(self, method: str) -> None:
                hostile.calls.append((method, self.path, dict(self.headers)))
                path = self.path.split("?")[0]
                if path == "/to-file":
                    self.reply(302, headers={"Location": "file:///etc/passwd"})
                elif path == "/loop":
                    self.reply(302, headers={"Location": "/loop"})
                elif path == "/elsewhere":
                    self.reply(307, headers={"Location": "http://127.0.0.2:9/steal"})
                elif path == "/huge-announced":
                    self.send_response(200)
                    self.send_header("Content-Length", str(10**9))
                    self.end_headers()
                    self.wfile.write(b"x" * 1000)
                elif path == "/lying-length":  # announces 100 bytes, sends 10 MB
                    self.send_response(200)
                    self.end_headers()
                    with contextlib.suppress(ConnectionError):  # the client hangs up at its limit
                        self.wfile.write(b"x" * 10_000_000)
                    self.close_connection = True
                elif path == "/drip":  # one byte every 0.2 s: never a read timeout
                    self.send_response(200)
                    self.send_header("Content-Length", "100")
                    self.end_headers()
                    for _ in range(100):
                        self.wfile.write(b"x")
                        self.wfile.flush()
                        time.sleep(0.2)
                elif path == "/busy":
                    self.reply(503, b"busy", {"Retry-After": "100000"})
                else:
                    self.reply(200, b'{"ok": true}', {"Content-Type": "application/json"})

            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                self.handle_one("GET")

            def do_POST(self) -> None:  # noqa: N802
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.handle_one("POST")

        self.server = LocalServer(Handler)
        self.url = self.server.url


@pytest.fixture
def hostile() -> Iterator[Hostile]:
    h = Hostile()
    yield h
    h.server.close()


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        ("/to-file", "not an http(s) URL (a redirect elsewhere is refused)"),
        ("/loop", "more than 5 redirects"),
    ],
)
def test_redirects_are_bounded_and_stay_on_http(hostile: Hostile, path: str, problem: str) -> None:
    with pytest.raises(http.HttpError) as info:
        http.get_json(QUICK, hostile.url + path)
    assert info.value.problem == problem


def test_only_http_urls_are_fetched(tmp_path: Path) -> None:
    with pytest.raises(http.HttpError, match="not an http"):
        http.download(QUICK, "file:///etc/passwd", tmp_path / "x", 100, 10)
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize(
    ("path", "cap", "problem"),
    [
        ("/huge-announced", 1000, "announces 1,000,000,000 bytes, more than the 1,000 expected"),
        ("/lying-length", 100, "sends more than the 100 bytes expected"),
        ("/drip", 1000, "still downloading after 1 s"),
    ],
)
def test_downloads_are_bounded_in_size_and_time(
    hostile: Hostile, tmp_path: Path, path: str, cap: int, problem: str
) -> None:
    dest = tmp_path / ".file.part"
    started = time.monotonic()
    with pytest.raises(http.HttpError) as info:
        http.download(QUICK, hostile.url + path, dest, cap, deadline=1)
    assert info.value.problem.startswith(problem)
    assert not dest.exists() and time.monotonic() - started < 10


def test_retry_after_is_capped_and_retries_end(hostile: Hostile, monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []
    monkeypatch.setattr(http, "RETRY_AFTER_MAX", 0.05)
    monkeypatch.setattr(time, "sleep", lambda s: slept.append(s))
    with pytest.raises(http.HttpError) as info:
        http.get_json(QUICK, hostile.url + "/busy")
    assert info.value.problem == "HTTP 503 Service Unavailable (gave up after 2 attempts)"
    assert len([c for c in hostile.calls if c[1] == "/busy"]) == 2 and max(slept) <= 0.05


def test_credentials_never_follow_a_redirect(hostile: Hostile) -> None:
    with pytest.raises(http.HttpError, match="redirects are not followed with credentials"):
        http.post_json(QUICK, hostile.url + "/elsewhere", {"purge": 1}, {"X-Auth-Key": "SECRET"})
    assert [c[1] for c in hostile.calls] == ["/elsewhere"]  # asked once, never followed


def test_credentials_in_urls_are_redacted() -> None:
    error = http.HttpError("https://x-access-token:ghs_SECRET@github.com/o/r", "HTTP 403")
    assert "ghs_SECRET" not in str(error) and str(error) == "https://***@github.com/o/r: HTTP 403"
