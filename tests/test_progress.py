"""Progress bars: on a terminal only, and off one without even importing tqdm (every doit pays for
an import); the sitemap's escaping without xml.sax (same reason)."""

from __future__ import annotations

import fcntl
import os
import re
import struct
import subprocess
import sys
import termios
from xml.sax.saxutils import escape

from rules import doitedge, sitefiles
from rules.paths import ROOT

BARS = """
import sys, time
from rules import progress
bar = progress.bar("pages", 3, "pages")
for _ in range(3):
    time.sleep(0.3)  # past the bar's delay: a terminal sees it
    bar.update()
bar.close()
with progress.bar("file", None, "B", scale=True) as shown:
    shown.update(1000)
print("tqdm" in sys.modules)
"""


def test_off_a_terminal_a_bar_prints_nothing_and_tqdm_is_not_loaded() -> None:
    proc = subprocess.run([sys.executable, "-c", BARS], capture_output=True, text=True, cwd=ROOT, check=True)
    assert (proc.stdout, proc.stderr) == ("False\n", "")


def test_on_a_terminal_a_bar_shows() -> None:
    main, other = os.openpty()
    fcntl.ioctl(other, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))  # a terminal's size
    try:
        proc = subprocess.run(
            [sys.executable, "-c", BARS],
            stdout=subprocess.PIPE,
            stderr=other,
            text=True,
            cwd=ROOT,
            timeout=60,
        )
        os.close(other)
        shown = b""
        while True:
            try:
                block = os.read(main, 65536)
            except OSError:  # the terminal's other end is closed: all was read
                break
            if not block:
                break
            shown += block
    finally:
        os.close(main)
    assert proc.returncode == 0 and proc.stdout == "True\n"
    assert b"pages:" in shown and b"/3 [" in shown, shown
    assert shown.rstrip(b"\r").endswith(b"  "), shown  # cleared when done (leave=False)


def test_the_sitemap_escapes_as_xml_sax_does() -> None:
    text = "https://example.org/?a=1&b=<2>\"'"
    assert sitefiles._xml(text) == escape(text)


def test_a_step_summary_agrees_with_its_count() -> None:
    step = doitedge._Step("render", 3)
    step.started()
    step.done()
    step.unchanged()
    assert re.fullmatch(r"render: 1 page in [\d.]+ s, 1 unchanged", step.close())
    # Pages doit was not given, up to date (rules/settled.py), are unchanged ones too.
    step = doitedge._Step("render", 2, 35_042)
    step.started()
    step.done()
    step.unchanged()
    assert re.fullmatch(r"render: 1 page in [\d.]+ s, 35,043 unchanged", step.close())
    assert doitedge._Step("render", 0, 35_044).close() == ""  # nothing ran: nothing to say
