"""Follow DVF on data.gouv.fr: ask the API whether a release changed, download only what did.

`check` asks `GET {api}/datasets/{dataset}/` and writes `build/datagouv.json`, the release as the
API describes it (per main resource: id, url, checksum, filesize, last_modified). Its bytes
change only when the release does, so a week with nothing new reruns nothing downstream.
`download` streams each new or changed file into `build/raw/` through a temporary file that is
renamed only when complete and verified (size, checksum when given, not an HTML page), with
timeouts, retries and backoff on connection errors, 429 and 5xx, and redirects followed.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import orjson
import requests

from rules import progress, store
from rules.doitedge import github_output
from rules.errors import ImmoStatsError
from rules.files import canonical_json, write_if_changed
from rules.paths import Paths
from rules.settings import Settings, bounds

DEFAULT_API = "https://www.data.gouv.fr/api/1"
DEFAULT_DATASET = "demandes-de-valeurs-foncieres"  # or demandes-de-valeurs-foncieres-geolocalisees
DATA_SUFFIXES = (".zip", ".csv", ".csv.gz", ".txt", ".gz")
HASHES = {"sha1": hashlib.sha1, "sha2": hashlib.sha256, "sha256": hashlib.sha256, "md5": hashlib.md5}
Log = Callable[[str], None]


class SourceError(ImmoStatsError):
    """data.gouv.fr did not give us a usable answer or file."""


@dataclass(frozen=True)
class Remote:
    """Where the data lives and how patient to be (settings: datagouv_api=, dataset=, ...)."""

    api: str = field(default=DEFAULT_API, metadata={"url": True})
    dataset: str = field(
        default=DEFAULT_DATASET,
        metadata={"pattern": r"[A-Za-z0-9][A-Za-z0-9_-]{0,99}", "expected": "expected a dataset id or slug"},
    )
    connect_timeout: float = field(default=10.0, metadata=bounds(0.01, 600))
    read_timeout: float = field(default=60.0, metadata=bounds(0.01, 3600))
    retries: int = field(default=4, metadata=bounds(1, 20))
    backoff: float = field(default=2.0, metadata=bounds(0, 600))  # seconds before the first retry, doubled

    @property
    def dataset_url(self) -> str:
        return f"{self.api.rstrip('/')}/datasets/{self.dataset}/"


def run_check(paths: Paths, settings: Settings, remote: Remote) -> None:
    """The `check` task: a failure is one line and a failed row in update_log."""
    try:
        check(paths.datagouv_release, paths.datagouv_imported, remote)
    except SourceError as e:
        store.record_failure(paths, settings, remote.dataset_url, e)
        raise


def run_download(paths: Paths, settings: Settings, remote: Remote) -> None:
    """The `download` task: same failure handling; nothing half-downloaded is ever kept."""
    try:
        download(paths.datagouv_release, paths.raw, paths.downloads, remote)
    except SourceError as e:
        store.record_failure(paths, settings, remote.dataset_url, e)
        raise


def downloaded_files(paths: Paths) -> list[Path]:
    """The local files of the current release, in the order the release lists them."""
    return [paths.raw / name for name in sorted(orjson.loads(paths.downloads.read_bytes()))]


def mark_imported(paths: Paths) -> None:
    """After a successful import, remember which release it was (what `check` compares with)."""
    write_if_changed(paths.datagouv_imported, paths.datagouv_release.read_bytes())


def check(manifest: Path, imported: Path, remote: Remote, log: Log = print) -> bool:
    """Ask the API for the release; write the manifest; say what is new. Returns True if anything is."""
    release = describe_release(_get_json(remote.dataset_url, remote), remote)
    write_if_changed(manifest, canonical_json(release))
    before = _by_id(orjson.loads(imported.read_bytes())) if imported.exists() else {}
    now = _by_id(release)
    news = [
        f"{r['file']} ({'new' if rid not in before else 'changed'})"
        for rid, r in now.items()
        if before.get(rid) != r
    ]
    gone = [r["file"] for rid, r in before.items() if rid not in now]
    if news or gone:
        log(
            "data.gouv.fr: "
            + ", ".join([*news, *(f"{g} (no longer published, kept in the history)" for g in gone)])
        )
    else:
        log(f"data.gouv.fr: DVF is up to date ({len(now)} files, updated {release['last_update'] or '?'})")
    github_output(has_updates="true" if news or gone else "false")
    return bool(news or gone)


def describe_release(dataset: Any, remote: Remote) -> dict[str, Any]:
    """The main data resources of the dataset, in a stable order, each with a local file name."""
    if not isinstance(dataset, dict) or not isinstance(dataset.get("resources"), list):
        raise SourceError(f"{remote.dataset_url}: not a data.gouv.fr dataset (no resources list)")
    resources = [r for r in dataset["resources"] if _is_data(r)]
    if not resources:
        raise SourceError(f"{remote.dataset_url}: the dataset lists no DVF data file")
    names = [_basename(r["url"]) for r in resources]
    out = []
    for r, name in zip(resources, names, strict=True):
        checksum = r.get("checksum") or {}
        out.append(
            {
                "id": r["id"],
                "url": r["url"],
                "title": r.get("title") or "",
                "checksum": {"type": checksum.get("type"), "value": checksum.get("value")}
                if checksum
                else None,
                "filesize": r.get("filesize"),
                "last_modified": r.get("last_modified"),
                "file": name if names.count(name) == 1 else f"{r['id']}-{name}",
            }
        )
    out.sort(key=lambda r: r["file"])
    return {"dataset": dataset.get("id"), "last_update": dataset.get("last_update"), "resources": out}


def _is_data(resource: dict) -> bool:
    url = str(resource.get("url", "")).lower()
    return resource.get("type", "main") == "main" and urlparse(url).path.endswith(DATA_SUFFIXES)


def _basename(url: str) -> str:
    return Path(urlparse(url).path).name


def _by_id(release: dict) -> dict[str, dict]:
    return {
        r["id"]: {k: r[k] for k in ("url", "checksum", "filesize", "last_modified", "file")}
        for r in release["resources"]
    }


def download(manifest: Path, raw: Path, local: Path, remote: Remote, log: Log = print) -> list[Path]:
    """Fetch every file of the release that we do not already hold; return the release's local files."""
    release = orjson.loads(manifest.read_bytes())
    held = orjson.loads(local.read_bytes()) if local.exists() else {}
    raw.mkdir(parents=True, exist_ok=True)
    files, record = [], {}
    for r in release["resources"]:
        path = raw / r["file"]
        previous = held.get(r["file"])
        same = previous and {k: previous.get(k) for k in ("url", "checksum", "filesize")} == {
            k: r[k] for k in ("url", "checksum", "filesize")
        }
        if not (same and path.exists() and path.stat().st_size == previous["bytes"]):
            _fetch(r, path, remote, log)
        record[r["file"]] = {
            "url": r["url"],
            "checksum": r["checksum"],
            "filesize": r["filesize"],
            "bytes": path.stat().st_size,
        }
        files.append(path)
    for stale in raw.iterdir():  # files of years no longer published: their rows stay in the store
        if stale.is_file() and stale.name not in record and not stale.name.startswith("."):
            stale.unlink()
    write_if_changed(local, canonical_json(record))
    return files


def _fetch(resource: dict, dest: Path, remote: Remote, log: Log) -> None:
    """Download to a temporary file, verify, then rename; retry what is worth retrying."""
    tmp = dest.with_name(f".{dest.name}.part")
    delay = remote.backoff
    for attempt in range(1, remote.retries + 1):
        try:
            started = time.monotonic()
            size = _stream(resource["url"], tmp, remote)
            _verify(resource, tmp, size)
            os.replace(tmp, dest)
            seconds = time.monotonic() - started
            log(f"downloaded {dest.name}: {size / 1e6:,.1f} MB in {seconds:.1f} s")
            return
        except _Retryable as e:
            tmp.unlink(missing_ok=True)
            if attempt == remote.retries:
                raise SourceError(f"{resource['url']}: {e} (gave up after {attempt} attempts)") from None
            time.sleep(e.retry_after if e.retry_after is not None else delay)
            delay *= 2
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise


class _Retryable(Exception):
    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def _stream(url: str, tmp: Path, remote: Remote) -> int:
    done, total = 0, 0
    try:
        with requests.get(url, stream=True, timeout=(remote.connect_timeout, remote.read_timeout)) as resp:
            _raise_for_status(url, resp)
            total = int(resp.headers.get("Content-Length") or 0)
            name = Path(urlparse(url).path).name
            with open(tmp, "wb") as f, progress.bar(name, total, "B", scale=True) as shown:
                for block in resp.iter_content(1 << 20):
                    f.write(block)
                    done += len(block)
                    shown.update(len(block))
    except requests.exceptions.Timeout:
        raise _Retryable(f"no answer within {remote.read_timeout:g} s") from None
    except requests.exceptions.ChunkedEncodingError:
        raise _Retryable(f"connection cut after {done:,} of {total:,} bytes") from None
    except requests.exceptions.ConnectionError as e:
        raise _Retryable(f"connection failed ({type(e).__name__})") from None
    if total and done != total:
        raise _Retryable(f"connection cut after {done:,} of {total:,} bytes")
    return done


def _raise_for_status(url: str, resp: requests.Response) -> None:
    if resp.status_code == 429 or resp.status_code >= 500:
        after = resp.headers.get("Retry-After")
        wait = min(float(after), 300.0) if after and after.isdigit() else None
        raise _Retryable(f"HTTP {resp.status_code}", wait)
    if resp.status_code != 200:
        raise SourceError(f"{url}: HTTP {resp.status_code} {resp.reason}")


def _verify(resource: dict, tmp: Path, size: int) -> None:
    """Size, checksum, and not an error page: a file that fails any of these is never imported."""
    url = resource["url"]
    with open(tmp, "rb") as f:
        head = f.read(512).lstrip().lower()
    if head.startswith((b"<!doctype", b"<html", b"<?xml")):
        raise SourceError(f"{url}: got an HTML page instead of the data file")
    expected = resource.get("filesize")
    if expected and size != expected:
        raise SourceError(f"{url}: {size:,} bytes received, the API announces {expected:,}")
    checksum = resource.get("checksum") or {}
    algo = HASHES.get(str(checksum.get("type")))
    if algo and checksum.get("value"):
        h = algo()
        with open(tmp, "rb") as f:
            while block := f.read(1 << 20):
                h.update(block)
        if h.hexdigest() != checksum["value"].lower():
            raise SourceError(
                f"{url}: {checksum['type']} checksum mismatch (file corrupt or changed in transit)"
            )


def _get_json(url: str, remote: Remote) -> Any:
    delay = remote.backoff
    for attempt in range(1, remote.retries + 1):
        try:
            resp = requests.get(url, timeout=(remote.connect_timeout, remote.read_timeout))
            _raise_for_status(url, resp)
            try:
                return resp.json()
            except ValueError:
                raise SourceError(f"{url}: the API answered with something that is not JSON") from None
        except requests.exceptions.Timeout:
            error = _Retryable(f"no answer within {remote.read_timeout:g} s")
        except requests.exceptions.ConnectionError:
            error = _Retryable("cannot connect (data.gouv.fr down or unreachable?)")
        except _Retryable as e:
            error = e
        if attempt == remote.retries:
            raise SourceError(f"{url}: {error} (gave up after {attempt} attempts)")
        time.sleep(error.retry_after if error.retry_after is not None else delay)
        delay *= 2
    raise AssertionError("unreachable")
