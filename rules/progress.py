"""Progress on a terminal (tqdm), and nothing anywhere else: CI logs get summary lines instead."""

from __future__ import annotations

import sys

from tqdm import tqdm


def on_terminal() -> bool:
    return sys.stderr.isatty()


def bar(desc: str, total: float | None = None, unit: str = "it", scale: bool = False) -> tqdm:
    """A bar on stderr that disappears when done; a no-op object when stderr is not a terminal."""
    return tqdm(
        desc=desc,
        total=total or None,
        unit=unit,
        unit_scale=scale,
        unit_divisor=1000,
        leave=False,
        disable=not on_terminal(),
        file=sys.stderr,
        mininterval=0.5,
        delay=0.5,  # a step quicker than this shows no bar at all
        dynamic_ncols=True,
    )
