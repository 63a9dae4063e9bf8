"""Atomic writes (rules/files.py): every file of site/ and build/ goes through them."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from rules import files
from rules.errors import DiskFullError


def _temps(folder: Path) -> list[Path]:
    return sorted(folder.rglob(".*.tmp"))


def test_a_write_makes_its_folder_and_a_published_mode_whatever_the_umask(tmp_path: Path) -> None:
    target = tmp_path / "ville" / "01053" / "index.html"
    old = os.umask(0o077)
    try:
        files.write_atomic(target, b"<!doctype html>\n")
    finally:
        os.umask(old)
    assert target.read_bytes() == b"<!doctype html>\n"
    assert target.stat().st_mode & 0o777 == 0o644  # a web server reads it
    assert _temps(tmp_path) == []


def test_a_name_without_a_folder_is_written_in_the_current_one(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    files.write_atomic("release.json", b"{}\n")
    assert (tmp_path / "release.json").read_bytes() == b"{}\n" and _temps(tmp_path) == []


def test_a_leftover_with_the_next_temporary_name_is_stepped_over(tmp_path: Path) -> None:
    """A killed process whose id came round again left `.name.<pid>-<n>.tmp` behind: the write
    takes another name, and leaves that file to tidy (it never enters a published tree)."""
    target = tmp_path / "france.json"
    files.write_atomic(target, b"1\n")
    number = next(files._temp_numbers)  # the next ones are n + 1, n + 2
    stale = [tmp_path / f".france.json.{os.getpid():x}-{n:x}.tmp" for n in (number + 1, number + 2)]
    for path in stale:
        path.write_bytes(b"half a file")
    files.write_atomic(target, b"2\n")
    assert target.read_bytes() == b"2\n"
    assert _temps(tmp_path) == stale and all(p.read_bytes() == b"half a file" for p in stale)


def test_a_full_disk_leaves_the_old_file_and_no_temporary_one(tmp_path: Path, monkeypatch) -> None:
    target = tmp_path / "data" / "villes" / "01053.json"
    files.write_atomic(target, b"old\n")

    def full(fd: int, data: object) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(files.os, "write", full)
    with pytest.raises(DiskFullError):
        files.write_atomic(target, b"new\n")
    monkeypatch.undo()
    assert target.read_bytes() == b"old\n" and _temps(tmp_path) == []


def test_threads_writing_into_one_folder_each_get_their_own_temporary_file(tmp_path: Path) -> None:
    """The history's writers are threads; 35,000 JSON files share data/villes/."""

    def write(k: int) -> None:
        for i in range(100):
            files.write_atomic(tmp_path / "villes" / f"{k}-{i}.json", f"{k},{i}\n".encode())

    threads = [threading.Thread(target=write, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    written = {p.name: p.read_text() for p in (tmp_path / "villes").iterdir()}
    assert len(written) == 800 and written["7-99.json"] == "7,99\n"
    assert _temps(tmp_path) == []


def test_unchanged_bytes_are_not_written_again(tmp_path: Path) -> None:
    target = tmp_path / "page.html"
    assert files.write_if_changed(target, b"a\n") is True
    os.utime(target, (1, 1))  # doit's check reads the mtime: an identical file keeps it
    assert files.write_if_changed(target, b"a\n") is False and target.stat().st_mtime == 1
    assert files.write_if_changed(target, b"b\n") is True and target.read_bytes() == b"b\n"


def test_a_read_gives_the_whole_file_and_its_stat(tmp_path: Path) -> None:
    """read_with_stat, by descriptor: every byte of an empty, a small and a large file, with the
    stat of the file read (what the checker keys its md5 on)."""
    for size in (0, 1, 5_000, 300_001):
        f = tmp_path / f"{size}.json"
        data = os.urandom(size)
        f.write_bytes(data)
        got, stat = files.read_with_stat(str(f))
        assert got == data == files.read_bytes(f)
        assert files.stat_key(stat) == files.stat_key(f.stat())


def test_a_read_goes_to_the_end_whatever_the_stat_says_and_leaves_no_descriptor() -> None:
    """/proc/self/cmdline says it holds 0 bytes; a folder and a missing file fail as open() does,
    their descriptor closed."""
    with open("/proc/self/cmdline", "rb") as f:
        assert files.read_with_stat("/proc/self/cmdline")[0] == f.read() != b""
    before = len(os.listdir("/proc/self/fd"))
    for bad, error in (("/", IsADirectoryError), ("/nonexistent/x", FileNotFoundError)):
        with pytest.raises(error):
            files.read_with_stat(bad)
    assert len(os.listdir("/proc/self/fd")) == before


def test_a_folder_name_taken_by_a_broken_link_is_an_error_not_a_loop(tmp_path: Path) -> None:
    """os.mkdir says "exists" for a dangling symbolic link, where the write still finds no folder."""
    (tmp_path / "page").symlink_to(tmp_path / "gone")
    code = f"from rules import files; files.write_atomic({str(tmp_path / 'page' / 'index.html')!r}, b'x')"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 1 and "FileExistsError" in proc.stderr


def test_several_new_files_are_hashed_side_by_side_and_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """HashCache.sha256s: each file's own sha256, in order, the new ones hashed once each (on
    threads), the known ones not at all."""
    import hashlib

    paths = [tmp_path / f"f{i}.txt" for i in range(5)]
    for i, p in enumerate(paths):
        p.write_bytes(os.urandom(1000 + i))
    hashed: list[Path] = []
    real = files.sha256_file
    monkeypatch.setattr(files, "sha256_file", lambda p: hashed.append(p) or real(p))
    cache = files.HashCache(tmp_path / "hashes.json")
    assert cache.sha256s(paths[:3]) == [hashlib.sha256(p.read_bytes()).hexdigest() for p in paths[:3]]
    assert sorted(hashed) == paths[:3]
    cache.save()
    again = files.HashCache(tmp_path / "hashes.json")
    assert again.sha256s(paths) == [hashlib.sha256(p.read_bytes()).hexdigest() for p in paths]
    assert sorted(hashed) == sorted(paths)  # the two new ones only
