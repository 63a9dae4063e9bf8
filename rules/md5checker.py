"""doit's MD5Checker (dodo.py's `check_file_uptodate`), hashing each file once a run.

doit hashes every input of a task it has just run, to record it. A full render of France runs
35,044 page tasks that all read their level's template fingerprint: doit's own checker hashed
that one file 35,044 times, and statted each input twice (its mtime, then its size): 70,000
reads and hashes, about 60 µs of every page on the core that runs them. This one is doit's,
with one stat per input and, per file, the digest of the last content it hashed or a task read
(rules/files.py `read_task_input`, rules/prerender.py: a page's JSON), kept while the file's
inode, device, size, mtime and ctime stay those it had then.

The class keeps doit's name: the records name their checker (`checker:`), and a record written
by either reads the same to the other (doit's get_status, rules/settled.py, the prerender
worker). A file rewritten in place with the same size within one clock tick, so that neither
its mtime nor its ctime moves, would keep its old digest here; doit's own rule already takes
such a file as unchanged, without hashing it, whenever its mtime is the one recorded.
"""

from __future__ import annotations

import os
from typing import Any

from doit import dependency
from doit.dependency import get_file_md5

from rules.files import KNOWN_MD5, stat_key

State = tuple[float, int, str]  # what doit records of a file: mtime, size, md5


class MD5Checker(dependency.MD5Checker):
    """doit's MD5Checker that does not hash a file again while it has not changed."""

    def check_modified(self, file_path: str, file_stat: os.stat_result, state: State) -> bool:
        timestamp, size, md5 = state
        if file_stat.st_mtime == timestamp:
            return False
        if file_stat.st_size != size:
            return True
        return md5 != self.md5(file_path, file_stat)

    def get_state(self, dep: str, current_state: Any) -> State | None:
        stat = os.stat(dep)
        if current_state and current_state[0] == stat.st_mtime:
            return None  # as doit: a file recorded with this mtime is not hashed again
        return stat.st_mtime, stat.st_size, self.md5(dep, stat)

    def md5(self, path: str, stat: os.stat_result) -> str:
        """The file's md5, hashed only if it moved since it was last hashed in this process (here,
        by a task that read it, or by the prerender worker for the page it handed over)."""
        key = stat_key(stat)
        known = KNOWN_MD5.get(path)
        if known is not None and known[0] == key:
            return known[1]
        md5 = get_file_md5(path)
        KNOWN_MD5[path] = (key, md5)
        return md5
