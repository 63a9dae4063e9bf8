"""rules/gcpause.py: the collector is paused inside the block and back as it was after it."""

from __future__ import annotations

import gc

import pytest

from rules import gcpause


def test_the_collector_is_paused_then_back_as_it_was() -> None:
    was = gc.isenabled()
    try:
        gc.enable()
        with gcpause.paused():
            assert not gc.isenabled()
        assert gc.isenabled()
        with pytest.raises(KeyError), gcpause.paused():
            raise KeyError("an error inside the block")
        assert gc.isenabled()  # an error does not leave the collector off
        gc.disable()
        with gcpause.paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # paused by someone else before: left paused
    finally:
        gc.enable() if was else gc.disable()
