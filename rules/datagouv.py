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
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import orjson

from rules import http, store
from rules.errors import ImmoStatsError
from rules.files import canonical_json, write_if_changed
from rules.paths import Paths
from rules.settings import Settings, setting
from rules.stepoutputs import github_output

DEFAULT_API = "https://www.data.gouv.fr/api/1"
DEFAULT_DATASET = "demandes-de-valeurs-foncieres"  # or demandes-de-valeurs-foncieres-geolocalisees
DATA_SUFFIXES = (".zip", ".csv", ".csv.gz", ".txt", ".gz")
HASHES = {"sha1": hashlib.sha1, "sha2": hashlib.sha256, "sha256": hashlib.sha256, "md5": hashlib.md5}
Log = Callable[[str], None]


class SourceError(ImmoStatsError):
    """data.gouv.fr did not give us a usable answer or file."""


MAX_BYTES = 4_000_000_000  # a file whose size the API does not announce: DVF's largest is ~0.5 GB


@dataclass(frozen=True)
class Remote:
    """Where the data lives and how patient to be (settings: datagouv_api=, dataset=, ...)."""

    api: str = setting(DEFAULT_API, "the data.gouv.fr API followed with `source=datagouv`", url=True)
    dataset: str = setting(
        DEFAULT_DATASET,
        "the dataset (`demandes-de-valeurs-foncieres-geolocalisees` for Etalab's geo-dvf)",
        pattern=r"[A-Za-z0-9][A-Za-z0-9_-]{0,99}",
        expected="expected a dataset id or slug",
    )
    connect_timeout: float = setting(10.0, "seconds to connect to data.gouv.fr", low=0.01, high=600)
    read_timeout: float = setting(60.0, "seconds data.gouv.fr may stay silent", low=0.01, high=3600)
    retries: int = setting(4, "attempts per request (connection errors, timeouts, 429, 5xx)", low=1, high=20)
    backoff: float = setting(2.0, "seconds before the first retry, doubled each time", low=0, high=600)
    download_deadline: float = setting(
        1800.0, "seconds the download of one file may take, however slowly it comes", low=1, high=86400
    )

    @property
    def client(self) -> http.Client:
        return http.Client(self.connect_timeout, self.read_timeout, self.retries, self.backoff)

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
    """The main data resources of the dataset, in a stable order, each with a local file name.

    Everything the API says is checked before it is used: a resource that is not an object, lacks
    an id or an http(s) URL, or gives a size or checksum of the wrong type is one SourceError line,
    and local names are made from a safe basename (plus a short hash of the id when two resources
    share one), never from the API's text as it is."""
    where = remote.dataset_url
    if not isinstance(dataset, dict) or not isinstance(dataset.get("resources"), list):
        raise SourceError(f"{where}: not a data.gouv.fr dataset (no resources list)")
    resources = [_checked(r, i, where) for i, r in enumerate(dataset["resources"])]
    resources = [r for r in resources if _is_data(r)]
    if not resources:
        raise SourceError(f"{where}: the dataset lists no DVF data file")
    names = [_safe_name(r["url"]) for r in resources]
    out = []
    for r, name in zip(resources, names, strict=True):
        checksum = r.get("checksum") or {}
        clash = names.count(name) > 1
        out.append(
            {
                "id": r["id"],
                "url": r["url"],
                "title": str(r.get("title") or ""),
                "checksum": {"type": checksum.get("type"), "value": checksum.get("value")}
                if checksum
                else None,
                "filesize": r.get("filesize"),
                "last_modified": r.get("last_modified"),
                "file": f"{hashlib.sha256(r['id'].encode()).hexdigest()[:12]}-{name}" if clash else name,
            }
        )
    if len({r["file"] for r in out}) != len(out):
        raise SourceError(f"{where}: two resources share an id and a file name")
    out.sort(key=lambda r: r["file"])
    return {"dataset": dataset.get("id"), "last_update": dataset.get("last_update"), "resources": out}


def _checked(resource: Any, i: int, where: str) -> dict[str, Any]:
    """One resource of the API's answer, with the types we rely on, or a SourceError naming it."""
    what = f"{where}: resource #{i + 1}"
    if not isinstance(resource, dict):
        raise SourceError(f"{what} is not an object ({type(resource).__name__})")
    rid, url = resource.get("id"), resource.get("url")
    if not isinstance(rid, str) or not rid.strip():
        raise SourceError(f"{what} has no id")
    if not isinstance(url, str) or urlparse(url).scheme not in ("http", "https"):
        raise SourceError(f"{what} ({rid[:40]!r}) has no http(s) URL")
    size = resource.get("filesize")
    if size is not None and (not isinstance(size, int) or isinstance(size, bool) or size < 0):
        raise SourceError(f"{what} ({rid[:40]!r}): filesize {size!r} is not a number of bytes")
    checksum = resource.get("checksum")
    if checksum is not None and not (
        isinstance(checksum, dict) and all(isinstance(checksum.get(k), str | None) for k in ("type", "value"))
    ):
        raise SourceError(f"{what} ({rid[:40]!r}): checksum {str(checksum)[:40]!r} is not a type and a value")
    return resource


def _is_data(resource: dict) -> bool:
    url = str(resource.get("url", "")).lower()
    return resource.get("type", "main") == "main" and urlparse(url).path.endswith(DATA_SUFFIXES)


def _safe_name(url: str) -> str:
    """The URL's file name, reduced to letters, digits, '.', '-' and '_', never hidden or empty:
    whatever the API says, the file lands in build/raw/ and nowhere else."""
    name = re.sub(r"[^A-Za-z0-9._-]", "_", Path(urlparse(url).path).name).lstrip(".")
    return name or "resource"


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
    for stale in raw.glob(".*.part"):  # a download a kill interrupted
        stale.unlink()
    files, record = [], {}
    for r in release["resources"]:
        path = raw / r["file"]
        if path.resolve().parent != raw.resolve():  # describe_release made it safe: never trust less
            raise SourceError(f"{r['url']}: local name {r['file']!r} would leave {raw}")
        previous = held.get(r["file"])
        same = previous and {k: previous.get(k) for k in ("url", "checksum", "filesize")} == {
            k: r[k] for k in ("url", "checksum", "filesize")
        }
        if not (same and previous and path.exists() and path.stat().st_size == previous["bytes"]):
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
    """Download to a temporary file, verify, then rename: a file that fails is never kept."""
    tmp = dest.with_name(f".{dest.name}.part")
    announced = resource.get("filesize")
    try:
        started = time.monotonic()
        size = http.download(
            remote.client, resource["url"], tmp, announced or MAX_BYTES, remote.download_deadline
        )
        _verify(resource, tmp, size)
        os.replace(tmp, dest)
        log(f"downloaded {dest.name}: {size / 1e6:,.1f} MB in {time.monotonic() - started:.1f} s")
    except http.HttpError as e:
        raise SourceError(str(e)) from None
    finally:
        tmp.unlink(missing_ok=True)


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
    try:
        return http.get_json(remote.client, url)
    except http.HttpError as e:
        raise SourceError(str(e)) from None
