"""Small file helpers: canonical JSON bytes, atomic writes, content hashes."""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import orjson

from rules.errors import NO_SPACE, DiskFullError

_JSON_OPTS = orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE


def canonical_json(data: Any) -> bytes:
    """The one byte form of a JSON document: sorted keys, no spaces, final newline.

    Equal data gives equal bytes, so a file's hash changes only when its content does.
    """
    return orjson.dumps(data, option=_JSON_OPTS)


def write_atomic(path: str | Path, data: bytes) -> None:
    """Write to a temporary file in the same folder, then rename: readers never see half a file.

    A full build writes 70,000 files (the places' JSON, then their pages), so this is lean:
    `tempfile.mkstemp` (its random name, its checks), a file object, a `mkdir` of a folder that
    exists and a `chmod` by path were half of a JSON file's write (measured on the statistics of
    all of France: 6.6 s of 8.4 s writing 35,040 new files). The temporary name is the process's
    id and a counter (`.index.html.3f2a-1c.tmp`), created exclusively: another process's file, or
    the leftover of a killed one whose id came round again, is stepped over. The folder is made
    only when it is missing. `path` may be a string: the pages and JSON files are named as such."""
    target = os.fspath(path)
    tmp = ""
    try:
        fd, tmp = _create_beside(target)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fchmod(fd, 0o644)  # whatever the umask: the files are published
        finally:
            os.close(fd)
        os.replace(tmp, target)
    except OSError as e:
        _remove(tmp)
        if e.errno in NO_SPACE:
            raise DiskFullError(target) from None
        raise
    except BaseException:
        _remove(tmp)
        raise


_TEMP_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
_temp_numbers = itertools.count()  # threads share it: next() on a count is atomic under the GIL


def _create_beside(target: str) -> tuple[int, str]:
    """A new, empty temporary file next to `target` (its folder made if missing): its descriptor
    and name. The name matches `.*.tmp`, which publish never takes and tidy removes."""
    folder, name = os.path.split(target)
    stem = os.path.join(folder, f".{name}.{os.getpid():x}-")
    while True:
        tmp = f"{stem}{next(_temp_numbers):x}.tmp"
        try:
            return os.open(tmp, _TEMP_FLAGS, 0o644), tmp
        except FileExistsError:
            continue
        except FileNotFoundError:
            if not folder:  # the current folder itself is gone
                raise
            _make_folder(folder)


def _make_folder(folder: str) -> None:
    """A new file's folder: one mkdir where its parent is there (a page's own folder, but for the
    first page of a level), which os.makedirs checks first."""
    try:
        os.mkdir(folder)
    except (FileNotFoundError, FileExistsError):  # no parent; made meanwhile, or not a folder
        os.makedirs(folder, exist_ok=True)  # says so if something else has the folder's name


def _remove(tmp: str) -> None:
    if tmp:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def write_if_changed(path: str | Path, data: bytes) -> bool:
    """Write `data` atomically unless `path` already holds exactly these bytes.

    Leaving an identical file alone keeps its mtime, which keeps doit's dependency check on
    its fast path and stops the rebuild cascade at this file. Returns True when it wrote.
    """
    try:
        if os.stat(path).st_size == len(data) and read_bytes(path) == data:
            return False
    except FileNotFoundError:
        pass
    write_atomic(path, data)
    return True


def read_bytes(path: str | Path) -> bytes:
    """A file's bytes, by a name as doit declares it (a string: 35,000 pages read their JSON, and
    making a Path of each name to read it cost a tenth of a page's render)."""
    return read_with_stat(path)[0]


StatKey = tuple[int, int, int, int, int]  # a file's inode, device, size, mtime and ctime
# The md5 of each file this process hashed, read for a task, or took from the prerender worker's
# read, with the file's stat then (stat_key): valid while it keeps that key (rules/md5checker.py).
KNOWN_MD5: dict[str, tuple[StatKey, str]] = {}


def stat_key(stat: os.stat_result) -> StatKey:
    """What says a file is the one hashed: a file replaced (a rename) or rewritten moves one of
    these, but for a same-size write within one tick of the file system's timestamps (see
    prerender.settled for where that matters)."""
    return stat.st_ino, stat.st_dev, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns


def read_task_input(path: str) -> bytes:
    """A file a doit task declares (its file_dep) and reads whole: its bytes, whose md5 doit's
    checker takes from `KNOWN_MD5` after the task (rules/md5checker.py) instead of reading the
    file again: a page's task reads its JSON once (and not at all when it takes the page the
    prerender worker computed, which sends the md5 too)."""
    data, stat = read_with_stat(path)
    KNOWN_MD5[path] = (stat_key(stat), hashlib.md5(data).hexdigest())
    return data


def read_with_stat(path: str | Path) -> tuple[bytes, os.stat_result]:
    """A file's bytes and its stat, both from one descriptor: five system calls where Python's
    buffered `open().read()` makes nine (a terminal check, two seeks, a second stat)."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        stat = os.fstat(fd)
        chunks = [os.read(fd, stat.st_size + 1)]  # all of it, unless it grew since the stat
        while chunks[-1]:  # to the end, whatever the stat said (a file in /proc says 0)
            chunks.append(os.read(fd, 1 << 16))
        return chunks[0] if len(chunks) <= 2 else b"".join(chunks), stat
    finally:
        os.close(fd)


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


class HashCache:
    """The sha256 of large input files, remembered by their stat: hashing five years of raw DVF
    (2.5 GB) took 1.7 s of every import, though a weekly release changes one file.

    An entry holds only while the file's size, mtime, ctime, inode and device are those it was
    hashed with. ctime cannot be set back by a program (`touch -d`, `os.utime` set mtime only),
    so a file edited in place with its mtime restored is hashed again, and a cache restored onto
    another machine (or a file restored beside it) never matches: every file there is new."""

    def __init__(self, file: Path) -> None:
        self.file = file
        try:
            known = orjson.loads(file.read_bytes()) if file.exists() else {}
        except orjson.JSONDecodeError:  # a damaged cache is an empty one
            known = {}
        self.known: dict[str, list] = known if isinstance(known, dict) else {}
        self.used: dict[str, list] = {}

    def sha256(self, path: Path) -> str:
        key = self._key(path)
        entry = self._entry(path, key)
        if entry is None:
            entry = [*key, sha256_file(path)]
        self.used[str(path)] = entry
        return entry[-1]

    def sha256s(self, paths: list[Path]) -> list[str]:
        """The sha256 of each file; several new ones are hashed side by side (hashlib lets go of
        the GIL: the five years of a cold build 1.8 s -> 1.0 s on two cores)."""
        new = [path for path in paths if self._entry(path, self._key(path)) is None]
        if len(new) > 1:
            with ThreadPoolExecutor(min(len(new), os.cpu_count() or 1)) as pool:
                list(pool.map(self.sha256, new))
        return [self.sha256(path) for path in paths]

    @staticmethod
    def _key(path: Path) -> list[int]:
        st = path.stat()
        return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev]

    def _entry(self, path: Path, key: list[int]) -> list | None:
        """The file's entry hashed this run or before, if it is of the file as it is (`key`)."""
        for entry in (self.used.get(str(path)), self.known.get(str(path))):
            if isinstance(entry, list) and entry[:-1] == key and isinstance(entry[-1], str):
                return entry
        return None

    def save(self) -> None:
        """Keep the entries of the files asked for this run: the cache never outgrows the source."""
        write_if_changed(self.file, canonical_json(self.used))
