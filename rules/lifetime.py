"""Child processes that end with the run that started them: the prerender worker, and the gits
publish runs side by side. Killed outright, a run would otherwise leave them running past its
build lock, writing what the next run is about to use."""

from __future__ import annotations

import ctypes
import os
import signal

PR_SET_PDEATHSIG = 1


def tie_to(parent: int) -> bool:
    """In a child: the kernel kills it (SIGKILL) when `parent`, the run, dies. False when the run
    died before this call: the child has nothing to do and should end at once."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    return os.getppid() == parent
