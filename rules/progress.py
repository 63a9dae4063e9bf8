"""Progress on a terminal (tqdm), and nothing anywhere else: CI logs get summary lines instead."""

from __future__ import annotations

import sys
from typing import Any, Protocol


class Bar(Protocol):
    def update(self, n: float = 1) -> Any: ...
    def close(self) -> None: ...
    def __enter__(self) -> Any: ...
    def __exit__(self, kind: Any, value: Any, tb: Any, /) -> Any: ...


class Silent:
    """A bar off a terminal: does nothing. tqdm's own `disable=True` does the same, but importing
    tqdm is ~10 ms of every `doit`, and the suite and CI start doit hundreds of times."""

    def update(self, n: float = 1) -> None:
        pass

    def close(self) -> None:
        pass

    def __enter__(self) -> Silent:
        return self

    def __exit__(self, kind: Any, value: Any, tb: Any, /) -> None:
        pass


def on_terminal() -> bool:
    return sys.stderr.isatty()


def bar(desc: str, total: float | None = None, unit: str = "it", scale: bool = False) -> Bar:
    """A bar on stderr that disappears when done; one that does nothing when stderr is not a terminal."""
    if not on_terminal():
        return Silent()
    from tqdm import tqdm

    return tqdm(
        desc=desc,
        total=total or None,
        unit=unit,
        unit_scale=scale,
        unit_divisor=1000,
        leave=False,
        file=sys.stderr,
        mininterval=0.5,
        delay=0.5,  # a step quicker than this shows no bar at all
        dynamic_ncols=True,
    )
