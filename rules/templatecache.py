"""Jinja's compiled templates kept between runs, as Python keeps its bytecode.

Compiling the site's templates costs every `doit` that renders 0.3 s, each prerender worker as
much, and the test suite a tenth of its time. Jinja's own file cache keeps them in a folder of
the system's temporary directory that only this user may enter (never in build/: it comes back
from a CI cache, which must never be able to run code). Jinja checks each entry against the
template's source; the key adds what Jinja does not check: the environment's own settings and the
filters it may run on constants while compiling (`salt`: a digest of the code that sets them) and
Jinja's version.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
from typing import TYPE_CHECKING

from rules.lazy import jinja2

if TYPE_CHECKING:
    from jinja2.bccache import Bucket, BytecodeCache


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
            except OSError:  # a full or read-only temporary folder: compiled again next time
                pass

    key = hashlib.sha256(salt + importlib.metadata.version("jinja2").encode()).hexdigest()
    try:
        return TemplateCache()
    except (OSError, RuntimeError):
        return None
