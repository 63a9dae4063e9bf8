"""A full disk, for real (a small tmpfs; the test is skipped where mounting is not allowed): one
line, a non-zero exit, and once space is back the next run ends where an uninterrupted one would."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import jinja2
import pytest
from conftest import RAW_2020, RAW_2021, SAMPLE, query, run_doit, tables

from rules.paths import Paths
from rules.templatecache import template_cache

AIN = "departements=01"


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "small"
    mount.mkdir()
    if subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=600k", "tmpfs", str(mount)], capture_output=True
    ).returncode:
        pytest.skip("cannot mount a tmpfs here (needs root and CAP_SYS_ADMIN)")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def _grow(mount: Path) -> None:
    subprocess.run(["mount", "-o", "remount,size=64m", str(mount)], check=True)


def _one_line(proc: subprocess.CompletedProcess, where: Path | str) -> None:
    assert proc.returncode != 0 and "Traceback" not in proc.stdout + proc.stderr
    errors = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(errors) == 1 and errors[0].startswith(
        f"error: no space left on the device of {where}".rstrip()
    ), errors


def test_a_full_disk_under_site_is_one_line_and_the_next_run_completes(
    tmp_path: Path, small_disk: Path
) -> None:
    paths = Paths.of(tmp_path / "build", small_disk / "site")
    _one_line(run_doit(paths, AIN, check=False), small_disk / "site")
    assert not list(paths.site.rglob(".*.tmp")), "no half-written file is left"
    _grow(small_disk)
    run_doit(paths, AIN)
    assert run_doit(paths, AIN).stdout == ""
    assert (paths.site / "ville" / "01053" / "index.html").exists()


def test_a_full_disk_under_build_is_one_line_and_the_store_stays_whole(
    tmp_path: Path, small_disk: Path
) -> None:
    paths = Paths.of(small_disk / "build", tmp_path / "site")
    _one_line(run_doit(paths, AIN, check=False), small_disk / "build")
    _grow(small_disk)
    run_doit(paths, AIN)
    assert query(paths.db, "select count(*) from dvf_rows")[0][0] == 172 + 41 + 2575
    assert run_doit(paths, AIN).stdout == ""


def test_a_batch_whose_copy_of_the_store_fills_the_disk_is_recorded_in_the_store(
    tmp_path: Path, small_disk: Path
) -> None:
    """A batch of several files is imported into a copy of the store: with room for the store but
    not for its copy, one line, the store as it was, a failed row for each file (written once the
    copy is gone), and once space is back the next run imports them."""
    _grow(small_disk)
    paths = Paths.of(small_disk / "build", tmp_path / "site")
    source = tmp_path / "source"
    source.mkdir()
    shutil.copy(RAW_2020, source)
    run_doit(paths, AIN, f"source={source}")
    before = tables(paths.db)
    for new in (RAW_2021, SAMPLE / "geo-dvf-2019-hendaye-64260.csv"):
        shutil.copy(new, source)
    room = shutil.disk_usage(small_disk).used + paths.db.stat().st_size // 2
    subprocess.run(["mount", "-o", f"remount,size={room // 1024}k", str(small_disk)], check=True)
    _one_line(run_doit(paths, AIN, f"source={source}", check=False), small_disk / "build")
    assert tables(paths.db) == before
    failed = query(paths.db, "select source_file from update_log where status = 'failed' order by 1")
    assert [r[0] for r in failed] == sorted([RAW_2021.name, "geo-dvf-2019-hendaye-64260.csv"])
    assert not paths.db_work.exists()
    _grow(small_disk)
    run_doit(paths, AIN, f"source={source}")
    assert query(paths.db, "select count(*) from dvf_rows")[0][0] == 172 + 41 + 566
    assert run_doit(paths, AIN, f"source={source}").stdout == ""


def test_a_full_disk_under_the_repository_refuses_the_publish_in_one_line(
    tmp_path: Path, small_disk: Path
) -> None:
    repo = small_disk / "repo"
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    (repo / ".gitignore").write_text("/site/\n/versions/version.json\n")
    subprocess.run(["git", "-C", str(repo), "add", "-A"], check=True)
    subprocess.run(
        ["git", "-C", str(repo), "-c", "user.email=t@example.org", "-c", "user.name=t", "commit", "-qm", "i"],
        check=True,
    )
    refs = subprocess.run(["git", "-C", str(repo), "show-ref"], capture_output=True, text=True).stdout
    paths = Paths.of(tmp_path / "build", tmp_path / "site")
    proc = run_doit(paths, AIN, f"repo={repo}", "publish", check=False)
    errors = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert proc.returncode != 0 and "Traceback" not in proc.stdout + proc.stderr
    assert len(errors) == 1 and "No space left on device" in errors[0], errors
    assert subprocess.run(["git", "-C", str(repo), "show-ref"], capture_output=True, text=True).stdout == refs
    _grow(small_disk)
    assert "published " in run_doit(paths, AIN, f"repo={repo}", "publish").stdout


def test_a_build_folder_that_fills_up_before_the_publish_is_one_line(
    tmp_path: Path, small_disk: Path
) -> None:
    repo = tmp_path / "repo"
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    paths = Paths.of(small_disk / "build", tmp_path / "site")
    _grow(small_disk)
    run_doit(paths, AIN)
    filler = _fill(small_disk)  # the disk fills up between the build and the publish
    proc = run_doit(paths, AIN, f"repo={repo}", "publish", check=False)
    _one_line(proc, "")
    assert subprocess.run(["git", "-C", str(repo), "show-ref"], capture_output=True, text=True).stdout == ""
    filler.unlink()
    assert "published " in run_doit(paths, AIN, f"repo={repo}", "publish").stdout


def test_a_full_build_folder_is_one_line_even_when_no_task_runs(tmp_path: Path, small_disk: Path) -> None:
    """doit saves its records in build/ as every run ends, one that runs no task too: a full disk
    there was a traceback (sqlite's "database or disk is full"). It is one line, whatever the run
    had to do: nothing, a touched source (known by its sha256 all the same: files_unchanged cannot
    record its new stat), or a changed one (the import says it, once). With room again, the next
    run imports the change, then does nothing."""
    source = tmp_path / "source"
    source.mkdir()
    raw = source / RAW_2021.name
    shutil.copy(RAW_2021, raw)
    paths = Paths.of(small_disk / "build", tmp_path / "site")
    args = (AIN, f"source={source}")
    _grow(small_disk)
    run_doit(paths, *args)
    filler = _fill(small_disk)
    _one_line(run_doit(paths, *args, check=False), paths.build)
    later = raw.stat().st_mtime_ns + 5 * 10**9
    os.utime(raw, ns=(later, later))
    _one_line(run_doit(paths, *args, check=False), paths.build)
    raw.write_bytes(raw.read_bytes().replace(b"185000,00", b"186000,00"))
    _one_line(run_doit(paths, *args, check=False), "")
    filler.unlink()
    assert "imported " in run_doit(paths, *args).stdout
    assert run_doit(paths, *args).stdout == ""


def _fill(mount: Path) -> Path:
    """Fill the disk at `mount` to its last byte; the file that does it."""
    filler = mount / "filler"
    with open(filler, "wb") as f:
        try:
            while True:
                f.write(bytes(1 << 16))
                f.flush()
        except OSError:
            pass
    return filler


def test_a_full_temporary_folder_still_renders(small_disk: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The compiled templates kept in the system's temporary folder (rules/templatecache.py): a
    full one keeps none, and the page is the same."""
    monkeypatch.setattr(tempfile, "tempdir", str(small_disk))
    folder = small_disk.parent / "templates"
    folder.mkdir()
    (folder / "page.html").write_text("<p>{{ name }}</p>")
    cache = template_cache(b"salt")
    assert cache is not None
    subprocess.run(["dd", "if=/dev/zero", f"of={small_disk / 'fill'}", "bs=4k"], capture_output=True)
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(folder), bytecode_cache=cache)
    assert env.get_template("page.html").render(name="x") == "<p>x</p>"
    assert not list(small_disk.glob("_jinja2-cache-*/*"))  # nothing kept, not even a partial file
