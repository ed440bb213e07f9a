"""Render an HTML report in headless Chromium, measure it as a reader sees it, screenshot it.

``render`` skips the calling test with the reason when Chromium is absent or cannot run.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

MAX_ROW_PX = 60
WIDTH, HEIGHT = 1366, 768

_MEASURE = """
<script>
window.addEventListener('load', () => {
  const vis = e => e.offsetParent !== null;
  const rows = () => [...document.querySelectorAll('tr')].filter(vis)
      .map(r => r.getBoundingClientRect().height);
  const main = document.querySelector('main');
  const ans = document.querySelector('.answer').getBoundingClientRect();
  const imgs = [...document.querySelectorAll('img')];
  const m = {
    inner_width: window.innerWidth, inner_height: window.innerHeight,
    answer_top: ans.top, answer_bottom: ans.bottom,
    main_scroll: main.scrollWidth, main_client: main.clientWidth,
    doc_scroll: document.documentElement.scrollWidth,
    n_img: imgs.length, img_ok: imgs.filter(i => i.complete && i.naturalWidth > 0).length,
    max_row: Math.max(0, ...rows()), n_rows: rows().length,
    page_height: document.documentElement.scrollHeight,
  };
  document.querySelectorAll('details').forEach(d => d.open = true);
  m.max_row_open = Math.max(0, ...rows()); m.n_rows_open = rows().length;
  m.main_scroll_open = main.scrollWidth;
  document.querySelectorAll('details').forEach(d => d.open = false);
  const pre = document.createElement('pre'); pre.id = 'measure';
  pre.textContent = 'MEASURE' + JSON.stringify(m) + 'END';
  document.body.appendChild(pre);
});
</script>
"""


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def _run(args: list[str], timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout)


def _base(exe: str, user_dir: Path) -> list[str]:
    return [exe, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
            "--no-first-run", "--disable-extensions", f"--user-data-dir={user_dir}",
            "--force-device-scale-factor=1"]  # fmt: skip


def render(report: Path, workdir: Path) -> dict:
    """Measure ``report`` in headless Chromium and take screenshots; returns the measures."""
    exe = _chromium()
    if exe is None:
        pytest.skip("chromium is not installed (apt-get install chromium; .ci/run installs it)")
    probe = workdir / "measure.html"
    probe.write_text(report.read_text().replace("</body>", _MEASURE + "</body>"))
    base = _base(exe, workdir / "chrome-profile")
    size = f"--window-size={WIDTH},{HEIGHT}"
    out = _run([*base, size, "--virtual-time-budget=10000", "--dump-dom", probe.as_uri()])
    found = re.search(r"MEASURE(\{.*?\})END", out.stdout, re.S)
    if found is None:
        if out.returncode != 0 or not out.stdout:
            why = out.stderr[-300:]
            pytest.skip(f"chromium could not render here (rc {out.returncode}): {why}")
        raise AssertionError(f"no measurement in the rendered page: {out.stdout[-500:]}")
    m = json.loads(found.group(1))
    first = workdir / "report_first_screen.png"
    _run([*base, size, f"--screenshot={first}", report.as_uri()])
    full = workdir / "report_full_page.png"
    tall = f"--window-size={WIDTH},{min(int(m['page_height']) + 20, 16000)}"
    _run([*base, tall, f"--screenshot={full}", report.as_uri()])
    m["screenshots"] = [str(p) for p in (first, full) if p.is_file()]
    pdf = workdir / "report.pdf"  # printed with the page's print CSS (details opened)
    _run([*base, "--no-pdf-header-footer", f"--print-to-pdf={pdf}", report.as_uri()])
    m["pdf"] = str(pdf) if pdf.is_file() else None
    dest = os.environ.get("HYPERALIGN_SCREENSHOTS")
    if dest:
        Path(dest).mkdir(parents=True, exist_ok=True)
        for p in (first, full):
            if p.is_file():
                shutil.copy(p, Path(dest) / f"{report.parent.name}_{p.name}")
    return m


def check_rendered(m: dict) -> None:
    """What a reader needs: answer first, short rows, no sideways scrolling, all figures."""
    assert m["inner_width"] == WIDTH
    assert 0 <= m["answer_top"] and m["answer_bottom"] <= m["inner_height"], m
    assert m["max_row"] <= MAX_ROW_PX, f"a table row is {m['max_row']} px tall"
    assert m["max_row_open"] <= MAX_ROW_PX, f"a row of a full table is {m['max_row_open']} px"
    assert m["main_scroll"] <= m["main_client"] + 1, "the main column overflows sideways"
    assert m["main_scroll_open"] <= m["main_client"] + 1, "an opened table overflows the page"
    assert m["doc_scroll"] <= m["inner_width"] + 1
    assert m["n_img"] >= 4 and m["img_ok"] == m["n_img"], f"{m['img_ok']}/{m['n_img']} images"
    for p in m["screenshots"]:
        assert Path(p).stat().st_size > 10_000
    assert m["pdf"] is not None, "printing to PDF failed"
    pdf = Path(m["pdf"]).read_bytes()
    assert pdf.startswith(b"%PDF") and len(pdf) > 50_000
