"""Compiled templates kept between runs: never stale, never an error."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import jinja2
import pytest
from jinja2.bccache import bc_magic

from rules import templatecache
from rules.templatecache import template_cache

SOURCE = "<p>{{ name }}</p>"


@pytest.fixture
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The system's temporary folder, this test's own: Jinja makes its private folder in it."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path


@pytest.fixture
def folder(private_tmp: Path) -> Path:
    """A folder of templates holding one page."""
    templates = private_tmp / "templates"
    templates.mkdir()
    (templates / "page.html").write_text(SOURCE)
    return templates


def _render(salt: bytes, autoescape: bool, folder: Path) -> str:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(folder), autoescape=autoescape, bytecode_cache=template_cache(salt)
    )
    return env.get_template("page.html").render(name="<b>")


def test_a_template_compiled_under_other_settings_is_compiled_again(private_tmp: Path, folder: Path) -> None:
    """Jinja checks an entry against the template's source only; autoescaping is compiled in. The
    same source under other settings (another salt) must not reuse the first compilation."""
    assert _render(b"plain", False, folder) == "<p><b></p>"
    entries = list(private_tmp.glob("_jinja2-cache-*/*"))
    assert len(entries) == 1  # the compiled template is kept
    assert _render(b"escaping", True, folder) == "<p>&lt;b&gt;</p>"
    assert _render(b"plain", False, folder) == "<p><b></p>"  # each salt keeps its own
    assert len(list(private_tmp.glob("_jinja2-cache-*/*"))) == 2


def test_the_folder_keeps_our_newest_entries_and_no_one_elses(
    private_tmp: Path, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each code version compiles its own entries: the folder keeps the newest KEEP of ours (the
    current code's), and another program's entry in Jinja's shared folder stays, however old."""
    monkeypatch.setattr(templatecache, "KEEP", 3)
    _render(b"salt0", False, folder)
    (cache,) = private_tmp.glob("_jinja2-cache-*")
    theirs = cache / "__jinja2_theirs.cache"
    theirs.write_bytes(b"another program's")
    os.utime(theirs, ns=(0, 0))
    made = [*cache.glob("immostats-*.cache")]
    os.utime(made[0], ns=(10**8, 10**8))
    for i in range(1, 6):
        before = set(cache.glob("immostats-*.cache"))
        assert _render(f"salt{i}".encode(), False, folder) == "<p><b></p>"
        (new,) = set(cache.glob("immostats-*.cache")) - before
        os.utime(new, ns=(i * 10**9, i * 10**9))  # in order, whatever the clock's grain
        made.append(new)
    assert sorted(cache.glob("immostats-*.cache")) == sorted(made[-3:])
    assert theirs.read_bytes() == b"another program's"


def test_a_damaged_entry_is_compiled_again(private_tmp: Path, folder: Path) -> None:
    _render(b"salt", False, folder)
    (entry,) = private_tmp.glob("_jinja2-cache-*/*")
    whole = entry.read_bytes()
    for damage in (whole[: len(bc_magic) + 5], bc_magic + b"\x80\x05garbage", whole[:-9], b""):
        entry.write_bytes(damage)
        assert _render(b"salt", False, folder) == "<p><b></p>"


def test_a_cache_folder_that_is_a_link_gives_no_cache(private_tmp: Path) -> None:
    """Jinja refuses a cache folder that is not this user's own directory (a link, as another user
    could plant in a shared temporary folder): loading bytecode from it would run what they wrote."""
    other = private_tmp / "other"
    other.mkdir()
    (private_tmp / f"_jinja2-cache-{os.getuid()}").symlink_to(other)
    assert template_cache(b"salt") is None
    (private_tmp / f"_jinja2-cache-{os.getuid()}").unlink()
    assert template_cache(b"salt") is not None


def test_the_site_cache_is_keyed_by_the_filters_code_too(monkeypatch: pytest.MonkeyPatch) -> None:
    """Jinja runs filters on constants while compiling, so the compiled pages hold what rules/fr.py
    said then: the site's key covers the code the renderer reaches, not only rules/render.py."""
    from rules import render
    from rules.paths import ROOT

    before = render._code_digest()
    fr = ROOT / "rules" / "fr.py"
    read = Path.read_bytes
    monkeypatch.setattr(Path, "read_bytes", lambda p: read(p) + b"\n# edited" if p == fr else read(p))
    assert render._code_digest() != before
