"""The layer-wise report: answer first, every figure, methods with the run's numbers; rendered in
headless Chromium as a reader sees it (skips without Chromium)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hyperalign.pipeline.layerwise import run_layerwise_pipeline

from ._chromium import check_rendered, render

FIGURES = {"role_lag_curves", "layer_lag_maps", "hierarchy_map", "model_profiles", "controls",
           "coupling_maps"}  # fmt: skip


@pytest.fixture(scope="module")
def run(tmp_path_factory, planted_layerwise_config):
    cfg = planted_layerwise_config("layerwise_report_test", 100, n_null=3)
    out = tmp_path_factory.mktemp("lwr") / "out"
    return run_layerwise_pipeline(cfg, out=out, verbose="error")


def test_report_answer_first_with_every_figure(run):
    assert set(run.figures) == FIGURES
    for p in run.figures.values():
        assert Path(p).is_file() and Path(p).stat().st_size > 5_000
    html = Path(run.report).read_text()
    order = ["class='answer'", "id='recovery'", "id='figures'", "id='tables'", "id='methods'",
             "id='exclusions'", "id='run'"]  # fmt: skip
    pos = [html.index(s) for s in order]
    assert pos == sorted(pos)
    answer = html[html.index("class='answer'") : html.index("</section>")]
    for needle in ("Question.", "Answer.", "Hierarchy.", "Coupling.", "Transfer latency",
                   "planted truth"):  # fmt: skip
        assert needle in answer, needle
    assert html.count("<img ") == len(FIGURES)
    assert "http://" not in html and "https://" not in html  # self-contained
    # the methods paragraph carries this run's numbers
    methods = run.methods
    assert "2 dyads" in methods and "6 lags" in methods and "4 contiguous folds" in methods
    assert re.search(r"\d+ held-out words", methods)


def test_report_rendered_in_chromium(run, tmp_path):
    m = render(Path(run.report), tmp_path)
    check_rendered(m)
