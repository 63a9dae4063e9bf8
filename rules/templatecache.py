"""Jinja's compiled templates kept between runs, as Python keeps its bytecode.

Compiling the site's templates costs every `doit` that renders 0.3 s, each prerender worker as
much, and the test suite a tenth of its time. Jinja's own file cache keeps them in a folder of
the system's temporary directory that only this user may enter (never in build/: it comes back
from a CI cache, which must never be able to run code). Jinja checks each entry against the
template's source; the key adds what Jinja does not check: the environment's own settings and the
filters it may run on constants while compiling (`salt`: a digest of the code that sets them) and
Jinja's version. Each code version compiles its own entries (~13, 400 KB), so the folder keeps the
newest `KEEP` of ours and removes older ones when it adds one; other programs' entries in the same
folder (Jinja's default pattern) are not ours to remove.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
from typing import TYPE_CHECKING

from rules.lazy import jinja2

if TYPE_CHECKING:
    from jinja2.bccache import Bucket, BytecodeCache

PATTERN = "immostats-%s.cache"  # ours, beside other programs' entries in Jinja's folder
KEEP = 400  # entries: the templates of about thirty code versions


def template_cache(salt: bytes) -> BytecodeCache | None:
    """Jinja's FileSystemBytecodeCache in its default, private folder, keyed also by `salt`; None
    where the system gives no private temporary folder (Jinja refuses one another user could
    write to). A cache it cannot read or write is no cache, never an error.

    The class is made here, not at import: jinja2 is imported on first use (rules.lazy)."""

    class TemplateCache(jinja2.FileSystemBytecodeCache):
        def get_cache_key(self, name: str, filename: str | None = None) -> str:
            return hashlib.sha1(f"{key}|{name}|{filename}".encode()).hexdigest()

        def load_bytecode(self, bucket: Bucket) -> None:
            try:
                super().load_bytecode(bucket)
            except Exception:  # noqa: BLE001 - a damaged entry (Jinja unpickles its checksum)
                bucket.reset()

        def dump_bytecode(self, bucket: Bucket) -> None:
            try:
                super().dump_bytecode(bucket)
                prune(self.directory)
            except OSError:  # a full or read-only temporary folder: compiled again next time
                pass

    key = hashlib.sha256(salt + importlib.metadata.version("jinja2").encode()).hexdigest()
    try:
        return TemplateCache(pattern=PATTERN)
    except (OSError, RuntimeError):
        return None


def prune(folder: str) -> None:
    """Remove our entries of `folder` but the newest `KEEP`: entries are written only when
    a template is compiled, so the newest are the current code's. An entry another run removes
    meanwhile is simply gone."""
    prefix, suffix = PATTERN.split("%s")
    entries = []
    with os.scandir(folder) as found:
        for entry in found:
            if entry.name.startswith(prefix) and entry.name.endswith(suffix):
                try:
                    entries.append((entry.stat(follow_symlinks=False).st_mtime_ns, entry.path))
                except FileNotFoundError:
                    continue
    entries.sort(reverse=True)
    for _, path in entries[KEEP:]:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
