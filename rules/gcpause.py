"""Python's cyclic garbage collector, paused while a step builds millions of objects that hold no
cycles.

A run already makes no full collections (rules/doitedge.no_full_collections), but its young ones
still walk every new object, and the statistics pass creates millions: the fetched rows (tuples)
and the documents assembled from them, none of which refers back to another. Measured on the
France benchmark's site, a full pass's fetch and assembly under the run's collector settings,
CPU: 6.2-6.4 s and 4.2-4.3 s with the young collections, 5.9-6.0 s and 3.8 s without.
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
