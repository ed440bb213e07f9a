"""The layer-wise report: answer first, every figure, methods with the run's numbers; rendered in
headless Chromium as a reader sees it (skips without Chromium)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hyperalign.pipeline.layerwise import run_layerwise_pipeline

from ._chromium import check_rendered, render

CFG = {
    "analysis": "layerwise_encoding",
    "name": "layerwise_report_test",
    "data": {"n_dyads": 2, "duration": 60.0, "n_channels": 8, "sfreq": 128.0, "random_state": 3},
    "simulation": {
        "layer_source": "simulated",
        "layer_hierarchy": [
            {"roi": "temporal", "layer": "layer_1", "lag": 0.25, "size": 2.0},
            {"roi": "occipital", "layer": "layer_3", "lag": 0.25, "size": 2.0},
        ],
        "model_coupling": [
            {"speaker_roi": "parietal", "listener_roi": "parietal", "layer": "layer_3",
             "speaker_lag": -0.25, "listener_lag": 0.25, "size": 2.0},
        ],
    },  # fmt: skip
    "features": {
        "text_model": {"name": "simulated", "layers": "all"},
        "speech_model": None,
        "controls": ["static", "random", "shuffled"],
    },
    "encoding": {"lags": {"start": -0.5, "stop": 0.75, "step": 0.25}, "cv": 4, "inner_cv": 3},
    "hierarchy": {"order": ["temporal", "occipital"], "n_boot": 100, "n_permutations": 100},
    "coupling": {"layer": "layer_3", "nuisance": ["word_rate"], "n_permutations": 3,
                 "lags": {"start": -0.5, "stop": 0.5, "step": 0.25}, "group_permutations": 100,
                 "n_boot": 100},
    "execution": {"n_jobs": 1},
}  # fmt: skip

FIGURES = {"role_lag_curves", "layer_lag_maps", "hierarchy_map", "model_profiles", "controls",
           "coupling_maps"}  # fmt: skip


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("lwr") / "out"
    return run_layerwise_pipeline(CFG, out=out, verbose="error")


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
