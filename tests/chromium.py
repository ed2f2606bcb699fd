"""Look at a page in a real browser: headless Chromium, 1400 px wide.

``screenshot(page, png)`` saves what a reader sees; ``layout(page)`` lays the page out and
measures what a reader would trip on: chart labels that overlap one another or leave their
chart, text rendered smaller than ``MIN_TEXT_PX``, a page wider than the window. Both start a
fresh Chromium with its own profile and no network services.

``python -m tests.chromium FOLDER FILE.html...`` screenshots each page into FOLDER and prints
its layout problems (``make screenshots``, after ``make demo``); exit 1 if any.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

WIDTH = 1400
MIN_TEXT_PX = 11.5
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "chrome")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
)

# Runs in the page once it is laid out; leaves its findings as JSON in <pre id="layout-check">.
_MEASURE = r"""
<script>
(function () {
  const out = {overlaps: [], outside: [], small: [], pageWidth: 0, texts: 0};
  function visible(el) {
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && !el.closest('details:not([open]) > :not(summary)');
  }
  for (const svg of document.querySelectorAll('svg')) {
    const frame = svg.getBoundingClientRect();
    const scale = svg.viewBox.baseVal && svg.viewBox.baseVal.width
      ? frame.width / svg.viewBox.baseVal.width : 1;
    const boxes = [];
    for (const t of svg.querySelectorAll('text')) {
      const r = t.getBoundingClientRect();
      if (!r.width) continue;
      const px = parseFloat(getComputedStyle(t).fontSize) * scale;
      const label = t.textContent.trim();
      out.texts++;
      if (px < __MIN__) out.small.push([label, Math.round(px * 10) / 10]);
      if (r.left < frame.left - 1 || r.right > frame.right + 1 || r.top < frame.top - 1 ||
          r.bottom > frame.bottom + 1) out.outside.push(label);
      for (const b of boxes) {
        const dx = Math.min(r.right, b.r.right) - Math.max(r.left, b.r.left);
        const dy = Math.min(r.bottom, b.r.bottom) - Math.max(r.top, b.r.top);
        if (dx > 1 && dy > 1) out.overlaps.push([b.label, label]);
      }
      boxes.push({r, label});
    }
  }
  for (const el of document.body.querySelectorAll('*')) {
    if (el.closest('svg') || el.id === 'layout-check') continue;
    const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    if (!own || !visible(el)) continue;
    const px = parseFloat(getComputedStyle(el).fontSize);
    if (px < __MIN__) out.small.push([el.textContent.trim().slice(0, 40), px]);
  }
  out.pageWidth = document.documentElement.scrollWidth;
  const pre = document.createElement('pre');
  pre.id = 'layout-check';
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
</script>
""".replace("__MIN__", str(MIN_TEXT_PX))


def required() -> bool:
    """CI installs Chromium (.ci/run) and sets CUTOVER_REQUIRE_CHROMIUM=1: there a missing
    browser is a failure, never a skip that hides one."""
    return os.environ.get("CUTOVER_REQUIRE_CHROMIUM", "") not in ("", "0")


def missing() -> bool:
    """Skip the browser checks: no Chromium here, and this run does not require it."""
    return find() is None and not required()


def find() -> str | None:
    """The Chromium executable, or None when there is none on this machine."""
    return next((path for name in CANDIDATES if (path := shutil.which(name))), None)


def _run(page: Path, *flags: str, height: int) -> str:
    browser = find()
    if browser is None:
        raise RuntimeError("no Chromium on this machine (Debian: apt-get install chromium)")
    with tempfile.TemporaryDirectory(prefix="cutover-chromium-") as profile:
        result = subprocess.run(
            [browser, *FLAGS, f"--user-data-dir={profile}", f"--window-size={WIDTH},{height}"]
            + [*flags, page.resolve().as_uri()],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    if result.returncode != 0:
        raise RuntimeError(f"chromium failed on {page}: {result.stderr[-500:]}")
    return result.stdout


def screenshot(page: Path, png: Path, height: int = 2400) -> Path:
    """A PNG of ``page`` as Chromium draws it, ``WIDTH`` px wide."""
    _run(page, f"--screenshot={png.resolve()}", height=height)
    return png


def layout(page: Path) -> dict:
    """What the layout check found on ``page`` (a copy with the measuring script is loaded)."""
    text = page.read_text(encoding="utf-8")
    with tempfile.TemporaryDirectory(prefix="cutover-layout-") as folder:
        copy = Path(folder) / page.name
        copy.write_text(text.replace("</body>", _MEASURE + "</body>"), encoding="utf-8")
        dom = _run(copy, "--dump-dom", "--virtual-time-budget=2000", height=1000)
    found = re.search(r'<pre id="layout-check">(.*?)</pre>', dom, re.S)
    if not found:
        raise RuntimeError(f"the layout check did not run on {page}")
    return json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))


def problems(found: dict) -> list[str]:
    """One line per thing a reader would trip on."""
    lines = [f"labels overlap: {a!r} and {b!r}" for a, b in found["overlaps"]]
    lines += [f"label leaves its chart: {t!r}" for t in found["outside"]]
    lines += [f"text {px} px (< {MIN_TEXT_PX}): {t!r}" for t, px in found["small"]]
    if found["pageWidth"] > WIDTH:
        lines.append(f"page {found['pageWidth']} px wide, window {WIDTH} px")
    return lines


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__.strip().splitlines()[-2], file=sys.stderr)
        return 2
    folder = Path(argv[0])
    folder.mkdir(parents=True, exist_ok=True)
    if find() is None:
        print("screenshots: no Chromium on this machine; skipped", file=sys.stderr)
        return 0
    failed = 0
    for page in map(Path, argv[1:]):
        png = screenshot(page, folder / f"{page.stem}.png")
        found = problems(layout(page))
        failed += bool(found)
        print(f"{png}: {'; '.join(found) or 'no layout problem'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
