"""Work shared with a child process: a full statistics pass gives half of its communes' documents
to one (rules/childwork.py, stats.documents_apart), and the files, manifests and changes must be
those of one process; a child that fails or dies leaves its share to the run."""

from __future__ import annotations

import os
import shutil
import signal
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest

sys.path.insert(0, str(Path(__file__).parent / "benchmark"))
import generate  # noqa: E402
from test_incremental import DEPARTEMENT, METHOD, QUIET, SETTINGS, _outputs  # noqa: E402

from rules import childwork, stats, store  # noqa: E402
from rules.paths import Paths  # noqa: E402


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Paths:
    """A department's store (two generated years), its statistics computed once."""
    tmp = tmp_path_factory.mktemp("childwork")
    generate.generate(tmp / "src", scale=DEPARTEMENT, years=2, seed=5)
    paths = Paths.of(tmp / "build", tmp / "site")
    store.import_files(paths, sorted((tmp / "src").glob("*.txt")), SETTINGS, **QUIET)
    stats.run(paths, METHOD, SETTINGS, **QUIET)
    return paths


def _full_pass_into_an_empty_site(paths: Paths) -> tuple[dict[str, bytes], dict[str, Any]]:
    """A full pass writing every file anew: the outputs, and what changes.json lists."""
    shutil.rmtree(paths.site / "data")
    paths.changes.unlink()  # an output missing: the next pass is a full one
    stats.run(paths, METHOD, SETTINGS, **QUIET)
    changes = orjson.loads(paths.changes.read_bytes())
    return _outputs(paths), {k: changes[k] for k in ("changed", "removed", "counts")}


def _taken(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many documents each child gave the run (the run's record of them)."""
    given: list[int] = []
    take = stats._Writer.take

    def counting(self: stats._Writer, done: list) -> None:
        given.append(len(done))
        take(self, done)

    monkeypatch.setattr(stats._Writer, "take", counting)
    return given


def test_documents_shared_with_a_child_are_those_of_one_process(
    built: Paths, monkeypatch: pytest.MonkeyPatch
) -> None:
    alone = _full_pass_into_an_empty_site(built)
    monkeypatch.setattr(stats, "SHARE_MIN", 1)
    monkeypatch.setattr(stats, "SHARE_CHUNK", 7)  # every other 7 communes: many changes of hands
    given = _taken(monkeypatch)
    shared = _full_pass_into_an_empty_site(built)
    communes = sum(1 for level, _ in stats.pl.all_places(SETTINGS.scope()) if level == "commune")
    assert given and 0.4 * communes < given[0] < 0.6 * communes, given  # the child did its half
    assert shared == alone


class _Failing(childwork.Child):
    """A child asked to run a function its module does not have: it fails, and gives nothing."""

    def __init__(self, module: str, function: str, args: tuple) -> None:
        super().__init__(module, "no_such_function", args)


class _Killed(childwork.Child):
    """A child killed as soon as it starts: its output is cut short."""

    def __init__(self, module: str, function: str, args: tuple) -> None:
        super().__init__(module, function, args)
        os.kill(self.proc.pid, signal.SIGKILL)


@pytest.mark.parametrize("child", [_Failing, _Killed])
def test_a_child_that_gives_nothing_leaves_its_share_to_the_run(
    built: Paths, monkeypatch: pytest.MonkeyPatch, child: type[childwork.Child]
) -> None:
    alone = _full_pass_into_an_empty_site(built)
    monkeypatch.setattr(stats, "SHARE_MIN", 1)
    monkeypatch.setattr(stats, "SHARE_CHUNK", 7)
    monkeypatch.setattr(stats, "Child", child)
    given = _taken(monkeypatch)
    assert _full_pass_into_an_empty_site(built) == alone
    assert given == []  # nothing taken from the child: the run wrote every file


def test_a_child_returns_what_its_function_returns() -> None:
    child = childwork.Child("os.path", "join", ("a", "b"))
    try:
        assert child.result() == os.path.join("a", "b")
    finally:
        child.stop()


@pytest.mark.parametrize("child", [childwork.Child, _Failing, _Killed])
def test_a_pass_over_the_site_reports_what_changed_as_one_process_does(
    built: Paths, monkeypatch: pytest.MonkeyPatch, child: type[childwork.Child]
) -> None:
    """A full pass that rewrites some files (every fifth commune's, damaged) and keeps the others:
    the same files, and the same lists of what changed, whether a child took a share, failed or
    died (a child writes nothing: the run writes every file, so its redo misses none)."""

    def pass_over_damaged_files() -> tuple[dict[str, bytes], Any]:
        for path in sorted((built.site / "data" / "villes").glob("*.json"))[::5]:
            path.write_bytes(b"{}")
        built.changes.unlink()  # an output missing: a full pass
        stats.run(built, METHOD, SETTINGS, **QUIET)
        changes = orjson.loads(built.changes.read_bytes())
        return _outputs(built), {k: changes[k] for k in ("changed", "removed", "counts")}

    alone = pass_over_damaged_files()
    assert 0 < alone[1]["counts"]["written"] < alone[1]["counts"]["places"]  # some kept, some rewritten
    monkeypatch.setattr(stats, "SHARE_MIN", 1)
    monkeypatch.setattr(stats, "SHARE_CHUNK", 7)
    monkeypatch.setattr(stats, "Child", child)
    assert pass_over_damaged_files() == alone
