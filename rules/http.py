"""The one HTTP client of the build: data.gouv.fr, Cloudflare and the webhooks all go through it.

requests with urllib3's `Retry` (connection errors, timeouts, 429 and 5xx, `Retry-After`
honoured up to a cap, exponential backoff), timeouts on every call, http(s) only, a bounded number
of redirects, none at all for calls that carry credentials, and for downloads an overall deadline
and a size cap, so a hostile or broken server can neither hang a run nor fill the disk. Failures
are `HttpError`s: one line naming the URL (credentials redacted) and the problem.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from rules import progress
from rules.errors import ImmoStatsError, redact
from rules.lazy import requests, urllib3

RETRY_STATUSES = (429, 500, 502, 503, 504)
RETRY_AFTER_MAX = 300.0  # seconds: a server asking for more is waited for this long, not a day
CHUNK = 1 << 20


class HttpError(ImmoStatsError):
    def __init__(self, url: str, problem: str) -> None:
        self.url, self.problem = redact(url), problem
        super().__init__(f"{self.url}: {problem}")


@cache
def _retry_type() -> type[urllib3.Retry]:
    """urllib3's Retry, with `backoff` seconds before the first retry (doubled after each), and a
    server's Retry-After capped at RETRY_AFTER_MAX. Made on first use: subclassing at import
    would load requests and urllib3 in every `doit` (rules.lazy)."""

    class Retry(urllib3.Retry):
        def get_backoff_time(self) -> float:
            errors = sum(1 for h in self.history if h.redirect_location is None)
            return 0.0 if errors == 0 else min(self.backoff_max, self.backoff_factor * 2 ** (errors - 1))

        def get_retry_after(self, response: Any) -> float | None:
            try:
                after = super().get_retry_after(response)
            except Exception:  # an unreadable header: back off as usual
                return None
            return None if after is None else min(max(after, 0.0), RETRY_AFTER_MAX)

    return Retry


@dataclass(frozen=True)
class Client:
    """How patient to be with one service."""

    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    attempts: int = 4  # tries per request, the first included
    backoff: float = 2.0  # seconds before the first retry, doubled each time
    redirects: int = 5

    def session(self) -> requests.Session:
        retry = _retry_type()(
            total=self.attempts - 1,
            connect=self.attempts - 1,
            read=self.attempts - 1,
            status=self.attempts - 1,
            other=0,
            redirect=False,  # requests follows redirects itself (see max_redirects)
            allowed_methods=None,  # POSTs here are idempotent (a purge) or sent once (attempts=1)
            status_forcelist=RETRY_STATUSES,
            backoff_factor=self.backoff,
            backoff_max=RETRY_AFTER_MAX,
            respect_retry_after_header=True,
            raise_on_status=False,
        )
        s = requests.Session()
        s.max_redirects = self.redirects  # calls with credentials follow none (allow_redirects=False)
        adapter = requests.adapters.HTTPAdapter(max_retries=retry)
        s.mount("http://", adapter)
        s.mount("https://", adapter)
        s.trust_env = False  # no ~/.netrc credentials, no proxy settings leaking in
        return s

    @property
    def timeout(self) -> tuple[float, float]:
        return (self.connect_timeout, self.read_timeout)

    def failure(self, url: str, e: requests.exceptions.RequestException) -> HttpError:
        """What a request that raised means, in words (after its retries)."""
        gave_up = f" (gave up after {self.attempts} attempts)" if self.attempts > 1 else ""
        failures = urllib3.exceptions
        reason = e.args[0].reason if e.args and isinstance(e.args[0], failures.MaxRetryError) else None
        if isinstance(e, requests.exceptions.Timeout) or isinstance(reason, failures.ReadTimeoutError):
            return HttpError(url, f"no answer within {self.read_timeout:g} s{gave_up}")
        if isinstance(e, requests.exceptions.TooManyRedirects):
            return HttpError(url, f"more than {self.redirects} redirects")
        if isinstance(e, requests.exceptions.InvalidSchema | requests.exceptions.InvalidURL):
            return HttpError(url, "not an http(s) URL (a redirect elsewhere is refused)")
        if isinstance(e, requests.exceptions.ConnectionError):
            return HttpError(url, f"cannot connect{gave_up}")
        return HttpError(url, f"request failed ({type(e).__name__}){gave_up}")

    def status_failure(self, url: str, resp: requests.Response) -> HttpError:
        retried = resp.status_code in RETRY_STATUSES and self.attempts > 1
        gave_up = f" (gave up after {self.attempts} attempts)" if retried else ""
        return HttpError(url, f"HTTP {resp.status_code} {resp.reason or ''}".rstrip() + gave_up)


def check_http(url: str) -> None:
    if urlsplit(url).scheme not in ("http", "https"):
        raise HttpError(url, "not an http(s) URL")


def get_json(client: Client, url: str) -> Any:
    """GET a JSON document; anything else (an HTML error page, a non-200) is an HttpError."""
    check_http(url)
    with client.session() as s:
        try:
            resp = s.get(url, timeout=client.timeout)
        except requests.exceptions.RequestException as e:
            raise client.failure(url, e) from None
    if resp.status_code != 200:
        raise client.status_failure(url, resp)
    try:
        return resp.json()
    except ValueError:
        raise HttpError(url, "the answer is not JSON") from None


def post_json(
    client: Client, url: str, body: Any, headers: Mapping[str, str] | None = None
) -> requests.Response:
    """POST JSON without following any redirect (see `with_credentials`)."""
    return with_credentials(client, "POST", url, headers or {}, body)


def with_credentials(
    client: Client, method: str, url: str, headers: Mapping[str, str], body: Any = None
) -> requests.Response:
    """A call that carries credentials in `headers`: they go to `url`'s host only, so no redirect
    is followed (a 3xx is an HttpError). Returns the final response, after retries of 429 and
    5xx; the caller reads its status."""
    check_http(url)
    with client.session() as s:
        try:
            resp = s.request(
                method,
                url,
                json=body,
                headers=dict(headers),
                timeout=client.timeout,
                allow_redirects=False,
            )
        except requests.exceptions.RequestException as e:
            raise client.failure(url, e) from None
    if 300 <= resp.status_code < 400:
        raise HttpError(url, f"HTTP {resp.status_code}: redirects are not followed with credentials")
    return resp


def download(client: Client, url: str, dest: Path, max_bytes: int, deadline: float) -> int:
    """Stream `url` into `dest`; returns the bytes written. Refuses more than `max_bytes` (as soon
    as they are announced or received) and a transfer longer than `deadline` seconds, however
    slowly the bytes drip in. A cut connection is retried like a failed request; `dest` is removed
    on every failure."""
    check_http(url)
    delay = client.backoff
    for attempt in range(1, client.attempts + 1):
        try:
            return _download_once(client, url, dest, max_bytes, deadline)
        except _Cut as e:
            dest.unlink(missing_ok=True)
            if attempt == client.attempts:
                gave_up = f" (gave up after {attempt} attempts)" if attempt > 1 else ""
                raise HttpError(url, f"{e}{gave_up}") from None
            time.sleep(delay)
            delay *= 2
        except BaseException:
            dest.unlink(missing_ok=True)
            raise
    raise AssertionError("unreachable")


class _Cut(Exception):
    """The body stopped short: worth another try."""


def _download_once(client: Client, url: str, dest: Path, max_bytes: int, deadline: float) -> int:
    started, done, total = time.monotonic(), 0, 0
    with client.session() as s:
        try:
            with s.get(url, stream=True, timeout=client.timeout) as resp:
                if resp.status_code != 200:
                    raise client.status_failure(url, resp)
                total = int(resp.headers.get("Content-Length") or 0)
                if total > max_bytes:
                    raise HttpError(url, f"announces {total:,} bytes, more than the {max_bytes:,} expected")
                name = Path(urlsplit(url).path).name
                with open(dest, "wb") as f, progress.bar(name, total, "B", scale=True) as shown:
                    while block := resp.raw.read1(CHUNK, decode_content=True):  # what has come
                        done += len(block)
                        if done > max_bytes:
                            raise HttpError(url, f"sends more than the {max_bytes:,} bytes expected")
                        if time.monotonic() - started > deadline:
                            raise HttpError(url, f"still downloading after {deadline:g} s ({done:,} bytes)")
                        f.write(block)
                        shown.update(len(block))
        except (requests.exceptions.ChunkedEncodingError, urllib3.exceptions.ProtocolError):  # the raw body
            raise _Cut(f"connection cut after {done:,} of {total:,} bytes") from None
        except urllib3.exceptions.ReadTimeoutError:
            raise _Cut(f"no data for {client.read_timeout:g} s after {done:,} of {total:,} bytes") from None
        except requests.exceptions.ConnectionError as e:
            if done:
                raise _Cut(f"connection cut after {done:,} of {total:,} bytes") from None
            raise client.failure(url, e) from None
        except requests.exceptions.RequestException as e:
            raise client.failure(url, e) from None
    if total and done != total:
        raise _Cut(f"connection cut after {done:,} of {total:,} bytes")
    return done
