"""dodo.py's checker (rules/md5checker.py): doit's states and decisions, each file hashed once
while it stays as it was."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from doit import dependency

from rules import md5checker
from rules.files import read_task_input
from rules.md5checker import MD5Checker
from tests.conftest import replace_keeping_times


@pytest.fixture
def hashed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The files the checker reads to hash them, in order."""
    read: list[str] = []

    def counted(path: str) -> str:
        read.append(path)
        return dependency.get_file_md5(path)

    monkeypatch.setattr(md5checker, "get_file_md5", counted)
    return read


def _later(path: Path, seconds: int = 2) -> None:
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + seconds * 1_000_000_000))


def test_states_and_decisions_are_doits(tmp_path: Path) -> None:
    """Through every way a file moves, ours records what doit's records and decides what it
    decides: the same (mtime, size, md5), the same "modified" answers."""
    ours, doits = MD5Checker(), dependency.MD5Checker()
    f = tmp_path / "a.json"
    f.write_bytes(b"one")
    path = str(f)
    steps = [
        ("as it is", lambda: None),
        ("touched, the same bytes", lambda: _later(f)),
        ("the same size, other bytes", lambda: (f.write_bytes(b"two"), _later(f, 4))),
        ("another size", lambda: f.write_bytes(b"three")),
        ("replaced: same size and mtime, other bytes", lambda: replace_keeping_times(f, b"THREE", f.stat())),
    ]
    recorded = doits.get_state(path, None)
    for what, change in steps:
        change()
        stat = os.stat(path)
        assert ours.check_modified(path, stat, recorded) == doits.check_modified(path, stat, recorded), what
        assert ours.get_state(path, None) == doits.get_state(path, None), what
        assert ours.get_state(path, recorded) == doits.get_state(path, recorded), what
        recorded = doits.get_state(path, None)


def test_a_file_is_hashed_once_while_it_stays_as_it_was(tmp_path: Path, hashed: list[str]) -> None:
    """35,000 pages read one fingerprint: it is hashed once. Any move of the file (a write of
    the same size, a replacement with the same size and mtime) is hashed again."""
    checker = MD5Checker()
    f = tmp_path / "fingerprint"
    f.write_bytes(b"fp-1")
    path = str(f)
    first = checker.get_state(path, None)
    for _ in range(3):
        assert checker.get_state(path, None) == first
    assert hashed == [path]

    replace_keeping_times(f, b"fp-2", f.stat())  # the same size and mtime: only the inode and ctime moved
    second = checker.get_state(path, None)
    assert second is not None and first is not None
    assert second[:2] == first[:2] and second[2] == dependency.get_file_md5(path) != first[2]
    assert hashed == [path, path]

    assert checker.check_modified(path, f.stat(), first) is False  # doit's rule: the recorded mtime
    assert checker.check_modified(path, f.stat(), (0.0, second[1], second[2])) is False
    assert checker.check_modified(path, f.stat(), (0.0, second[1], first[2])) is True
    assert hashed == [path, path]  # both answered from what it hashed last


def test_a_file_a_task_read_is_recorded_without_reading_it_again(tmp_path: Path, hashed: list[str]) -> None:
    """A page's task reads its JSON whole (rules/files.py read_task_input): doit records the md5
    of those bytes, as its own checker would, without a second read; the same file replaced
    (same size and mtime, other bytes) is read and hashed again."""
    f = tmp_path / "33063.json"
    f.write_bytes(b'{"nom":"Bordeaux"}')
    path = str(f)
    assert read_task_input(path) == f.read_bytes()
    checker = MD5Checker()
    assert checker.get_state(path, None) == dependency.MD5Checker().get_state(path, None)
    assert hashed == []

    replace_keeping_times(f, b'{"nom":"Bordeauy"}', f.stat())
    state = checker.get_state(path, None)
    assert state is not None and state[2] == dependency.get_file_md5(path)
    assert hashed == [path]
