"""Following data.gouv.fr, against a real HTTP server on 127.0.0.1 standing in for it."""

from __future__ import annotations

import copy
import hashlib
import io
import time
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import urlparse

import orjson
import pytest
from conftest import DATA, RAW_2020, RAW_2021, LocalServer, QuietHandler, query, run_doit, tables

from rules import datagouv
from rules.paths import Paths
from rules.settings import Settings

EXAMPLE = orjson.loads((DATA / "dvf" / "datagouv-dataset-example.json").read_bytes())
SLUG = "demandes-de-valeurs-foncieres"


def zipped(name: str, text: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(name, text)
    return buf.getvalue()


class DataGouv:
    """The API and the file storage: files and their scripted behaviours, and a log of requests."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.plan: dict[str, list[str]] = {}  # path -> behaviours for the next requests
        self.requests: list[str] = []
        self.api_plan: list[str] = []
        self.release: dict[str, tuple[str, bytes]] = {}  # year -> (url path, bytes)
        self.server = LocalServer(self._handler())
        self.base = self.server.url

    def publish(self, year: str, text: str, stamp: str = "20260405-002306") -> None:
        path = f"/resources/{SLUG}/{stamp}/valeursfoncieres-{year}.txt.zip"
        data = zipped(f"ValeursFoncieres-{year}.txt", text)
        self.files[path] = data
        self.release[year] = (path, data)

    def withdraw(self, year: str) -> None:
        del self.release[year]

    def dataset(self) -> dict:
        """The reconstructed v1 dataset, with our files as its main resources."""
        doc = copy.deepcopy({k: v for k, v in EXAMPLE.items() if k != "_comment"})
        template = doc["resources"][0]
        doc["resources"] = [
            {
                **copy.deepcopy(template),
                "id": f"00000000-0000-0000-0000-00000000{year}",
                "title": f"Valeurs foncières {year}",
                "url": self.base + path,
                "checksum": {"type": "sha1", "value": hashlib.sha1(data).hexdigest()},
                "filesize": len(data),
                "last_modified": f"2026-04-05T00:{int(year) % 60:02d}:00+00:00",
            }
            for year, (path, data) in sorted(self.release.items())
        ] + [r for r in EXAMPLE["resources"] if r["type"] != "main"]  # documentation stays out
        return doc

    def file_requests(self) -> list[str]:
        return [r for r in self.requests if r.startswith("/resources/")]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(QuietHandler):
            def _send(self, status: int, body: bytes, kind: str = "application/octet-stream") -> None:
                self.reply(status, body, {"Content-Type": kind})

            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                server.requests.append(self.path)
                if self.path == f"/api/1/datasets/{SLUG}/":
                    how = server.api_plan.pop(0) if server.api_plan else "ok"
                    if how == "html":
                        return self._send(200, b"<!DOCTYPE html><title>Maintenance</title>", "text/html")
                    if how == "500":
                        return self._send(500, b"oops", "text/plain")
                    return self._send(200, orjson.dumps(server.dataset()), "application/json")
                if self.path.startswith("/storage/"):
                    return self._send(200, server.files[self.path.replace("/storage", "/resources", 1)])
                if self.path not in server.files:
                    return self._send(404, b"not found", "text/plain")
                plan = server.plan.get(self.path) or ["ok"]
                how = plan.pop(0) if len(plan) > 1 else plan[0]
                data = server.files[self.path]
                if how == "redirect":  # downloads redirect to object storage
                    self.reply(302, headers={"Location": self.path.replace("/resources", "/storage", 1)})
                elif how == "500":
                    self._send(503, b"busy", "text/plain")
                elif how == "429":
                    self.reply(429, headers={"Retry-After": "0"})
                elif how == "html":
                    self._send(200, b"<!DOCTYPE html>\n<html><body>Erreur</body></html>", "text/html")
                elif how == "corrupt":
                    self._send(200, data[:-10] + b"0123456789")
                elif how == "cut":
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data[: len(data) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                elif how == "slow":
                    time.sleep(1.0)
                    self._send(200, data)
                else:
                    self._send(200, data)

        return Handler

    def close(self) -> None:
        self.server.close()


@pytest.fixture
def server() -> Iterator[DataGouv]:
    s = DataGouv()
    s.publish("2020", RAW_2020.read_text("utf-8"))
    s.publish("2021", RAW_2021.read_text("utf-8"))
    yield s
    s.close()


def remote(server: DataGouv, **kw: float) -> datagouv.Remote:
    return datagouv.Remote(api=server.base + "/api/1", read_timeout=0.3, retries=3, backoff=0.01, **kw)


def _check_and_download(paths: Paths, server: DataGouv) -> list[Path]:
    datagouv.check(paths.datagouv_release, paths.datagouv_imported, remote(server), log=lambda _: None)
    return datagouv.download(
        paths.datagouv_release, paths.raw, paths.downloads, remote(server), log=lambda _: None
    )


def test_downloads_follow_redirects_and_verify(server: DataGouv, paths: Paths) -> None:
    path_2021 = server.release["2021"][0]
    server.plan[path_2021] = ["redirect", "ok"]
    files = _check_and_download(paths, server)
    assert [f.name for f in files] == ["valeursfoncieres-2020.txt.zip", "valeursfoncieres-2021.txt.zip"]
    assert files[1].read_bytes() == server.release["2021"][1]
    assert "/storage/" + path_2021.split("/", 2)[2] in server.requests
    server.requests.clear()
    _check_and_download(paths, server)  # unchanged files are not downloaded again
    assert server.file_requests() == []


@pytest.mark.parametrize(
    ("plan", "expected_requests"),
    [(["500", "ok"], 2), (["429", "ok"], 2), (["cut", "ok"], 2), (["slow", "ok"], 2)],
    ids=["500 then success", "429 then success", "cut once then success", "slow once then success"],
)
def test_retries_then_success(
    server: DataGouv, paths: Paths, plan: list[str], expected_requests: int
) -> None:
    path = server.release["2021"][0]
    server.plan[path] = list(plan)
    _check_and_download(paths, server)
    assert server.file_requests().count(path) == expected_requests
    assert (paths.raw / "valeursfoncieres-2021.txt.zip").read_bytes() == server.release["2021"][1]


@pytest.mark.parametrize(
    ("how", "message"),
    [
        ("corrupt", "sha1 checksum mismatch"),
        ("cut", "connection cut after"),
        ("404", "HTTP 404"),
        ("html", "got an HTML page instead of the data file"),
        ("slow", "no answer within 0.3 s"),
        ("500", "HTTP 503"),
    ],
)
def test_failed_downloads_keep_nothing(server: DataGouv, paths: Paths, how: str, message: str) -> None:
    path = server.release["2021"][0]
    if how == "404":
        del server.files[path]
    else:
        server.plan[path] = [how]
    with pytest.raises(datagouv.SourceError, match=message):
        _check_and_download(paths, server)
    assert not (paths.raw / "valeursfoncieres-2021.txt.zip").exists()
    assert not list(paths.raw.glob(".*.part")), "no partial file is left behind"
    assert not paths.downloads.exists()


@pytest.mark.parametrize(("plan", "message"), [(["html"], "not JSON"), (["500"] * 3, "HTTP 500")])
def test_api_failures(server: DataGouv, paths: Paths, plan: list[str], message: str) -> None:
    server.api_plan = list(plan)
    with pytest.raises(datagouv.SourceError, match=message):
        datagouv.check(paths.datagouv_release, paths.datagouv_imported, remote(server), log=lambda _: None)
    assert not paths.datagouv_release.exists()


def test_api_down(paths: Paths) -> None:
    down = datagouv.Remote(api="http://127.0.0.1:9/api/1", retries=2, backoff=0.01, connect_timeout=0.5)
    with pytest.raises(datagouv.SourceError, match="cannot connect"):
        datagouv.check(paths.datagouv_release, paths.datagouv_imported, down, log=lambda _: None)


def _doit(paths: Paths, server: DataGouv, *args: str, check: bool = True):
    return run_doit(
        paths,
        "-v",
        "2",  # one line per task that runs
        "source=datagouv",
        f"datagouv_api={server.base}/api/1",
        "departements=01",
        "read_timeout=0.5",
        "backoff=0.01",
        "retries=2",
        *args,
        check=check,
    )


def test_following_releases_end_to_end(server: DataGouv, paths: Paths, tmp_path: Path, monkeypatch) -> None:
    outputs = tmp_path / "github_output"
    monkeypatch.setenv("GITHUB_OUTPUT", str(outputs))
    first = _doit(paths, server).stdout
    assert "valeursfoncieres-2020.txt.zip (new)" in first and ".  render:01053" in first
    assert len(server.file_requests()) == 2
    assert query(paths.db, "select count(*) from dvf_rows")[0][0] == 213

    # A week with nothing new: the check runs, nothing else.
    server.requests.clear()
    quiet = _doit(paths, server).stdout
    assert quiet.strip().splitlines() == [quiet.strip()] and "DVF is up to date (2 files" in quiet
    assert server.file_requests() == []
    assert outputs.read_text().splitlines() == ["has_updates=true", "has_updates=false"]

    # One year changed: only that file is downloaded, and the commune it touches is updated.
    server.publish(
        "2021", RAW_2021.read_text("utf-8").replace("204332,00", "214332,00"), stamp="20261020-000000"
    )
    server.requests.clear()
    changed = _doit(paths, server).stdout
    assert "valeursfoncieres-2021.txt.zip (changed)" in changed
    assert server.file_requests() == [server.release["2021"][0]]
    assert ".  render:01065" in changed and ".  render:01053" not in changed

    # A new year: only it is downloaded.
    server.publish("2022", RAW_2021.read_text("utf-8").replace("/2021|", "/2022|"), stamp="20261020-000000")
    server.requests.clear()
    _doit(paths, server)
    assert server.file_requests() == [server.release["2022"][0]]
    assert query(paths.db, "select count(*) from dvf_rows where annee = 2022")[0][0] == 41

    # A year removed from the release: kept in the history.
    server.withdraw("2020")
    removed = _doit(paths, server).stdout
    assert "valeursfoncieres-2020.txt.zip (no longer published, kept in the history)" in removed
    assert query(paths.db, "select count(*) from dvf_rows where annee = 2020")[0][0] == 172
    ain = orjson.loads((paths.site / "data" / "departements" / "01.json").read_bytes())
    assert "2020" in ain["volumes"]


def test_a_bad_download_through_doit_loses_nothing(server: DataGouv, paths: Paths) -> None:
    _doit(paths, server)
    before, site = tables(paths.db), {p: p.read_bytes() for p in paths.site.rglob("*") if p.is_file()}
    server.publish(
        "2021", RAW_2021.read_text("utf-8").replace("204332,00", "214332,00"), stamp="20261020-000000"
    )
    server.plan[server.release["2021"][0]] = ["corrupt"]
    proc = _doit(paths, server, check=False)
    assert proc.returncode != 0
    errors = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(errors) == 1 and "sha1 checksum mismatch" in errors[0] and errors[0].startswith("error: ")
    assert tables(paths.db) == before
    assert {p: p.read_bytes() for p in paths.site.rglob("*") if p.is_file()} == site
    assert query(paths.db, "select status from update_log order by batch_id desc limit 1") == [("failed",)]
    server.plan.clear()  # the next run starts cleanly
    assert "valeursfoncieres-2021.txt.zip (changed)" in _doit(paths, server).stdout
    assert query(paths.db, "select count(*) from dvf_rows where valeur_fonciere = 214332")[0][0] == 1


def test_geo_dvf_dataset_is_a_supported_source(paths: Paths) -> None:
    """Etalab's geo-dvf dataset: per-year full.csv.gz files with the same name, told apart by id."""
    import gzip

    from conftest import GEO_2021

    from rules import store
    from rules.settings import Settings

    s = DataGouv()
    try:
        data = gzip.compress(GEO_2021.read_bytes(), mtime=0)
        for year in ("2020", "2021"):
            path = f"/geo-dvf/latest/csv/{year}/full.csv.gz"
            s.files[path] = data if year == "2021" else gzip.compress(b"", mtime=0)
            s.release[year] = (path, s.files[path])
        s.withdraw("2020")
        files = _check_and_download(paths, s)
        assert [f.name for f in files] == ["full.csv.gz"]
        (result,) = store.import_files(paths, files, Settings(), log=lambda _: None)
        assert (result.fmt, result.rows) == ("geo", 41)
        s.release["2020"] = ("/geo-dvf/latest/csv/2020/full.csv.gz", data)  # same base name twice
        names = [r["file"] for r in datagouv.describe_release(s.dataset(), remote(s))["resources"]]
        assert len(set(names)) == 2 and all(n.endswith("-full.csv.gz") for n in names)
    finally:
        s.close()


def _lying(server: DataGouv, change) -> None:
    """The API's answer, altered by `change` (a function of the dataset document)."""
    honest = server.dataset

    def dataset() -> dict:
        doc = honest()
        change(doc)
        return doc

    server.dataset = dataset  # type: ignore[method-assign]


def _main(doc: dict) -> list[dict]:
    return [r for r in doc["resources"] if r.get("type") == "main"]


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (
            lambda d: d.update(resources=["valeursfoncieres-2021.txt.zip"]),
            "resource #1 is not an object (str)",
        ),
        (lambda d: _main(d)[0].update(filesize="12"), "filesize '12' is not a number of bytes"),
        (lambda d: _main(d)[0].update(checksum="abc"), "checksum 'abc' is not a type and a value"),
        (lambda d: _main(d)[0].update(checksum=12), "checksum '12' is not a type and a value"),
        (lambda d: _main(d)[0].pop("id"), "has no id"),
        (lambda d: _main(d)[0].update(url="file:///etc/passwd.zip"), "has no http(s) URL"),
    ],
    ids=[
        "resources as strings",
        "filesize as text",
        "checksum as text",
        "checksum as a number",
        "no id",
        "file url",
    ],
)
def test_a_lying_api_is_one_line_and_changes_nothing(
    server: DataGouv, paths: Paths, change, problem: str
) -> None:
    _lying(server, change)
    with pytest.raises(datagouv.SourceError) as info:
        datagouv.run_check(paths, Settings(), remote(server))  # the check task: the failure is recorded
    assert problem in str(info.value) and "\n" not in str(info.value)
    assert not paths.datagouv_release.exists()
    assert query(paths.db, "select status, error from update_log") == [("failed", str(info.value))]
    assert query(paths.db, "select count(*) from dvf_rows") == [(0,)]


def test_hostile_resource_ids_never_name_a_file_outside_build_raw(server: DataGouv, paths: Paths) -> None:
    """Two resources share a file name, so the local names are told apart; the ids the API gives
    (a path, an absolute path) never become part of them."""

    def clash(doc: dict) -> None:
        first, second = _main(doc)[:2]
        second["url"] = second["url"].rsplit("/", 1)[0] + "/" + first["url"].rsplit("/", 1)[1]
        first["id"], second["id"] = "../../../PWNED", "/tmp/ABSOLUTE"
        server.files[urlparse(second["url"]).path] = server.files[urlparse(first["url"]).path]
        second.update(checksum=first["checksum"], filesize=first["filesize"])

    _lying(server, clash)
    files = _check_and_download(paths, server)
    assert len(files) == 2 and all(f.parent == paths.raw for f in files)
    assert {f.name.split("-", 1)[1] for f in files} == {"valeursfoncieres-2020.txt.zip"}
    assert not any(".." in f.name or "PWNED" in f.name or "ABSOLUTE" in f.name for f in files)
    assert not (paths.build.parent / "PWNED").exists() and not Path("/tmp/ABSOLUTE").exists()
