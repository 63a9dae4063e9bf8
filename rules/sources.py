"""Find DVF source files and check them before DuckDB reads a byte.

A source is one file or a folder of files. Each file may be plain, zipped (one member) or
gzipped. The format is recognised from the header, never from the name:

- raw DGFiP `ValeursFoncieres-YYYY.txt`: 43 pipe-separated columns, first column named
  `Code service CH` (older files) or `Identifiant de document` (newer ones);
- Etalab geo-dvf: 40 comma-separated columns.

Checking happens in one streaming pass per file that decompresses it into `build/tmp/` when
needed and counts lines, so a truncated archive, an HTML error page or a runaway line is
reported with the file and line before any import starts. Latin-1 bytes are found by DuckDB,
which checks the UTF-8 of every line it reads (the import's error line names the first).
"""

from __future__ import annotations

import gzip
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, cast

from rules import progress
from rules.dvf import GEO_HEADER, RAW_FIRST_COLUMN, RAW_HEADER
from rules.errors import ConfigError, InputError
from rules.files import sha256_file

SUFFIXES = (".txt", ".csv", ".zip", ".gz")
_CHUNK = 1 << 20
MAX_BYTES = 8_000_000_000  # decompressed: DVF's largest file is about 0.5 GB
MAX_LINE = 1_000_000
_HTML_STARTS = ("<!doctype", "<html", "<?xml", "<head", "<body", "<!--")


@dataclass(frozen=True)
class CheckedFile:
    """A source file that passed the byte-level checks, ready for DuckDB."""

    path: Path  # the file as given
    sha256: str  # of the file as given (compressed or not)
    fmt: str  # "raw" or "geo"
    data_path: Path  # plain UTF-8 text DuckDB reads (the file itself, or a decompressed copy)
    rows: int  # data lines (header excluded)

    @property
    def name(self) -> str:
        return self.path.name


def discover(source: str | Path) -> list[Path]:
    """The DVF files of a source: the file itself, or the data files in a folder (recursive)."""
    root = Path(source)
    if not root.exists():
        raise ConfigError(f"source={source}: no such file or folder")
    if root.is_file():
        return [root.resolve()]
    files = sorted(
        p.resolve()
        for p in root.rglob("*")
        if p.is_file() and not p.name.startswith(".") and p.name.lower().endswith(SUFFIXES)
    )
    if not files:
        raise ConfigError(f"source={source}: no DVF file (.txt, .csv, .zip, .gz) in this folder")
    return files


def check(path: Path, tmp: Path, sha: str | None = None) -> CheckedFile:
    """Hash (unless `sha` is known), decompress if needed, and validate one file.

    Raises InputError naming the file, the line and what is wrong.
    """
    if path.stat().st_size == 0:
        raise InputError(path, "empty file (0 bytes)")
    sha = sha or sha256_file(path)
    _reject_html_bytes(path)
    with _open_payload(path) as stream:
        if stream is not None:
            tmp.mkdir(parents=True, exist_ok=True)
            data_path = tmp / f"{sha[:16]}.{path.name}.txt"
            head, lines, ends_with_newline = _scan(stream, path, data_path)
        else:
            data_path = path
            with open(path, "rb") as f:
                head, lines, ends_with_newline = _scan(f, path, None)
    rows = lines - 1 + (0 if ends_with_newline else 1)
    fmt = _recognise(path, head)
    if rows <= 0:
        raise InputError(path, "header only, no data rows", 1)
    return CheckedFile(path, sha, fmt, data_path, rows=rows)


def _reject_html_bytes(path: Path) -> None:
    """An error page saved under a .zip or .gz name is still an error page: say so plainly."""
    with open(path, "rb") as f:
        start = f.read(512).lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if start.startswith(tuple(s.encode() for s in _HTML_STARTS)):
        raise InputError(path, "an HTML page, not DVF data (an error page saved as a download?)", 1)


@contextmanager
def _open_payload(path: Path) -> Iterator[IO[bytes] | None]:
    """Yield a stream of the decompressed content, or None for a plain file.

    Compression is recognised from the magic bytes, not the name.
    """
    with open(path, "rb") as f:
        magic = f.read(4)
    if magic.startswith(b"PK\x03\x04") or magic.startswith(b"PK\x05\x06"):
        try:
            with zipfile.ZipFile(path) as zf:
                members = [m for m in zf.infolist() if not m.is_dir()]
                if len(members) != 1:
                    names = ", ".join(m.filename for m in members) or "nothing"
                    raise InputError(path, f"a DVF zip holds exactly one file; this one holds {names}")
                with zf.open(members[0]) as member:
                    yield member
        except (zipfile.BadZipFile, zlib.error, EOFError) as e:
            raise InputError(path, f"not a readable zip archive, truncated or corrupt ({e})") from None
    elif magic.startswith(b"\x1f\x8b"):
        try:
            with gzip.open(path, "rb") as gz:
                yield cast(IO[bytes], gz)
        except (gzip.BadGzipFile, zlib.error, EOFError) as e:
            raise InputError(path, f"not a readable gzip file, truncated or corrupt ({e})") from None
    else:
        yield None


def _scan(stream: IO[bytes], path: Path, copy_to: Path | None) -> tuple[bytes, int, bool]:
    """Stream the content once: line count, line lengths, optional copy. Returns (head, lines, final
    LF). UTF-8 is DuckDB's to check, as it reads every line of the file (store.py: the first bad
    line, as one error line): decoding it here too took 0.75 s of a 500 MB file's 1.0 s."""
    head, lines, size, open_line, tail = b"", 0, 0, 0, b""  # tail: the last 4 bytes
    shown = progress.bar(path.name, None, "B", scale=True)  # decompressed: the total is unknown
    out = open(copy_to, "wb") if copy_to else None
    try:
        while block := stream.read(_CHUNK):
            if not head:  # not DVF: stop before decompressing (or copying) anything more
                _check_head(path, block)
            size += len(block)
            if size > MAX_BYTES:
                raise InputError(path, f"more than {MAX_BYTES / 1e9:g} GB of content: not a DVF file")
            newline = block.rfind(b"\n")
            open_line = open_line + len(block) if newline < 0 else len(block) - newline - 1
            if open_line > MAX_LINE:
                line = lines + (block.count(b"\n") if newline >= 0 else 0) + 1
                raise InputError(
                    path, f"a line longer than {MAX_LINE // 1000:,} kB (DVF lines are under 1 kB)", line
                )
            if out:
                out.write(block)
            if len(head) < 8192:
                head += block[:8192]
            lines += block.count(b"\n")
            tail = (tail + block[-4:])[-4:]
            shown.update(len(block))
        if _cut_character(tail):
            raise InputError(path, "ends in the middle of a UTF-8 character (truncated file?)", lines + 1)
    except BaseException:
        if out and copy_to:
            out.close()
            copy_to.unlink(missing_ok=True)
        raise
    finally:
        shown.close()
    if out:
        out.close()
    if not head:
        raise InputError(path, "empty file (no content after decompression)")
    return head, lines, tail.endswith(b"\n")


def _cut_character(tail: bytes) -> bool:
    """Whether the content's last bytes (`tail`, up to 4) end inside a UTF-8 character: a file cut
    short, which DuckDB would only call "not UTF-8"."""
    start = max((i for i, b in enumerate(tail) if b & 0xC0 != 0x80), default=0)
    try:
        tail[start:].decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def _check_head(path: Path, block: bytes) -> None:
    """The first block of the content must start like a DVF file: its header line."""
    first = block.split(b"\n", 1)[0]
    if b"\r" in first.rstrip(b"\r"):
        raise InputError(path, "lines end with CR only (classic Mac OS): DVF files use LF or CRLF", 1)
    _recognise(path, block[:8192])


def _recognise(path: Path, head: bytes) -> str:
    """Tell raw DGFiP from geo-dvf by the header line; anything else is an error with line 1 shown."""
    first = head.split(b"\n", 1)[0].decode("utf-8", "replace").rstrip("\r").lstrip("\ufeff")
    low = first.lstrip().lower()
    if low.startswith(_HTML_STARTS):
        raise InputError(path, "an HTML page, not DVF data (an error page saved as a download?)", 1)
    pipe = [c.strip() for c in first.split("|")]
    if len(pipe) == len(RAW_HEADER) and pipe[0] in RAW_FIRST_COLUMN and pipe[1:] == RAW_HEADER[1:]:
        return "raw"
    if [c.strip() for c in first.split(",")] == GEO_HEADER:
        return "geo"
    shown = first if len(first) <= 80 else first[:77] + "..."
    raise InputError(
        path,
        f"unknown header {shown!r}: expected the DGFiP ValeursFoncieres header (43 columns separated "
        "by '|') or the Etalab geo-dvf header (40 columns separated by ',')",
        1,
    )
