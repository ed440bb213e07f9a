"""The HTML report as a reader sees it: rendered by headless Chromium, measured, screenshotted.

A small synthetic pipeline result (simulated analysis table, real statistics, real figures,
a planted-effects table and its recovery) is written with ``write_html_report``; Chromium
renders it at a laptop's 1366 x 768, a script measures the page, and the test asserts: the
answer is in the first screen, no table row is taller than ``MAX_ROW_PX``, the main column
does not overflow horizontally, every image loaded, and the page prints to PDF. Screenshots
are written next to the report (and to ``$HYPERALIGN_SCREENSHOTS`` when set, to look at
them).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import warnings
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from hyperalign.pipeline.config import load_config
from hyperalign.report import make_figures, write_html_report
from hyperalign.report.recovery import compute_recovery
from hyperalign.report.tables import compact_planted, summarize_notes

ROOT = Path(__file__).resolve().parents[2]
MAX_ROW_PX = 60
WIDTH, HEIGHT = 1366, 768
ROIS = {
    "frontal": ["Fp1", "Fp2", "F3", "Fz", "F4"],
    "central": ["FC1", "FC2", "C3", "Cz", "C4"],
    "temporal": ["T7", "T8"],
    "parietal": ["P3", "Pz", "P4", "O1", "O2"],
}
PLANTED_CH = ["Fz", "FC1", "FC2", "F3", "F4", "Cz"]

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


def _planted(dyads) -> pd.DataFrame:
    rows = []
    for i, d in enumerate(dyads):
        lag = 0.1 + 0.1 * i / max(len(dyads) - 1, 1)
        rows += [
            {"dyad": d, "effect": "semantic_coupling", "size": 0.08, "fmin": 4.0, "fmax": 8.0,
             "channels": PLANTED_CH, "lag_s": lag, "role": "listener lags",
             "description": "slope of the shared amplitude on z(semantic_alignment)"},
            {"dyad": d, "effect": "confound", "size": 0.5, "fmin": np.nan, "fmax": np.nan,
             "channels": [], "lag_s": np.nan, "role": "turn",
             "description": f"target corr; realized {0.4 + 0.01 * i:.3f}"},
        ]  # fmt: skip
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def synthetic_result(tmp_path_factory):
    """A pipeline-like result from simulated tables, with real stats and figures."""
    from hyperalign.stats import simulate_analysis_table, test_semantic_beyond_acoustics

    out = tmp_path_factory.mktemp("report")
    (out / "tables").mkdir()
    rois = tuple(f"{r}-{r}" for r in ROIS)
    table = simulate_analysis_table(
        n_dyads=6, n_utterances=40, bands=("theta", "alpha"), rois=rois, lags=(0.0, 0.1, 0.2),
        semantic_effect=0.5, dyad_sd=0.0, random_state=0,
        effect_cells=[("theta", r, lag) for r in rois[:2] for lag in (0.1, 0.2)],
    )  # fmt: skip
    table["sync_z"] = table["sync"]
    table["roi_in"] = table["roi"].str.split("-").str[0]
    table["roi_out"] = table["roi_in"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stats = test_semantic_beyond_acoustics(
            table, sync="sync_z", semantic=["sem_align"], acoustic=["acsim"], covariates=[],
            by=("band", "roi", "lag"), n_permutations=50, correction="maxstat", random_state=0,
        )  # fmt: skip
    cfg = load_config(
        ROOT / "pipelines" / "semantic_vs_acoustic.yaml",
        {"stats.acoustic": ["acsim"], "stats.covariates": [], "data.n_dyads": 6},
    )
    planted = _planted(sorted(table["dyad"].unique()))
    part = pd.DataFrame(
        [{"dyad": d, "participant": f"{d}-P{k}", "role": "participant", "n_channels": 19,
          "sfreq": 256.0, "duration_s": 150.0, "n_words": 300}
         for d in sorted(table["dyad"].unique()) for k in (1, 2)]
    )  # fmt: skip
    layer = pd.DataFrame(
        {"layer": np.repeat(np.arange(1, 9), 20), "value": np.random.default_rng(0).random(160),
         "model": "smollm2", "measure": "semantic alignment (cosine, previous turn)"}
    )  # fmt: skip
    res = SimpleNamespace(
        out=out, config=cfg, figures={}, timings={"data": 1.0, "stats": 2.0, "total": 3.0},
        exclusions=pd.DataFrame(
            [{"stage": "features.alignment", "kind": "utterance", "item": "0",
              "reason": "no previous turn", "n": 1}] * 6
        ),
        tables={"semantic_beyond_acoustics": stats.table, "analysis": table,
                "synchrony": table, "planted_effects": planted, "participants": part,
                "layer_alignment": layer},
        rois=ROIS, summary={"n_dyads_listed": 7, "n_dyads_analysed": 6},
    )  # fmt: skip
    res.recovery = compute_recovery(
        stats.table, planted, bands={"theta": (4, 8), "alpha": (9, 13)}, rois=ROIS,
        analysis=table,
    )  # fmt: skip
    stats.table.to_csv(out / "tables" / "semantic_beyond_acoustics.csv", index=False)
    res.figures = make_figures(res, out / "figures")
    res.report = write_html_report(res, out / "report.html", methods="Methods text.")
    return res


def test_report_content_answer_first(synthetic_result):
    res = synthetic_result
    text = res.report.read_text()
    assert text.index("class='answer'") < text.index("Recovery of the planted truth")
    assert text.index("Recovery of the planted truth") < text.index("Key figures")
    assert "6 of 7 dyads analysed, 15.0 of 15.0 minutes" in text
    assert "Semantic alignment beyond acoustics" in text and "<details>" in text
    assert re.search(r"singular fit in \d+ of 24 cells: a random-effect variance", text)
    assert "http://" not in text and "https://" not in text  # nothing fetched from a network
    assert set(res.figures) >= {
        "cell_effects",
        "sync_topomap",
        "lag_profile",
        "partial_regression",
        "sync_overview",
        "layer_alignment",
    }
    c = res.recovery.counts
    assert f"{c['hits']} hit(s), {c['misses']} miss(es)" in text
    # the planted effects: one row per effect, per-dyad values only where they differ
    summ, per = compact_planted(res.tables["planted_effects"])
    assert len(summ) == 2
    assert list(per["field"]) == ["lag", "description: target corr; realized ..."]
    assert list(per.iloc[1, 2:4]) == ["0.400", "0.410"]


def test_summarize_notes_deduplicates():
    df = pd.DataFrame(
        {"band": ["theta"] * 3, "roi": ["a-a", "b-b", "c-c"], "lag": [0.0] * 3,
         "notes": ["singular fit for 'y ~ x': variance [0.0], residual 1.5; not identified",
                   "singular fit for 'y ~ x + z': variance [0.0], residual 1.2; not identified",
                   ""]}
    )  # fmt: skip
    n = summarize_notes(df)
    assert len(n) == 1 and n.iloc[0]["n_cells"] == 2 and n.iloc[0]["n_total"] == 3
    assert n.iloc[0]["note"].startswith("singular fit for 'y ~ x'")


def test_report_rendered_in_chromium(synthetic_result, tmp_path):
    m = render(synthetic_result.report, tmp_path)
    check_rendered(m)
