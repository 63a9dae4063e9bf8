"""Python's cyclic garbage collector, paused while a step builds millions of objects that hold no
cycles and outlive many collections.

Each of the collector's full passes walks every live object. The statistics pass fetches millions
of rows (tuples) and assembles 35,000 documents from them: the rows live until their batch is
written, so as they pile up the collector keeps walking them, for no garbage (nothing they hold
refers back). Measured on 4,000 communes' documents: 0.82 s with the collector, 0.38 s without.
Reference counting still frees every object as soon as it is unused."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused() -> Iterator[None]:
    """The block runs without cyclic collections; the collector is back as it was afterwards."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
