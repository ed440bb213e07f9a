import matplotlib

matplotlib.use("Agg")

import numpy as np

from hyperalign.report.figures_stats import partial_residuals, plot_partial_regression
from hyperalign.report.methods import methods_paragraph
from hyperalign.stats import simulate_analysis_table


def test_methods_paragraph_uses_parameters():
    params = dict(
        metrics=["plv", "ccorr"], bands={"theta": (4, 8)}, lags=[0.0, 0.2], rois=["F-F"],
        surrogates="circular-shift", n_surrogates=200, sync="sync_z", semantic=["sem_align"],
        acoustic=["acsim"], covariates=["duration"], groups="dyad", by=["band", "roi", "lag"],
        formula_null="sync_z ~ duration + acsim",
        formula_full="sync_z ~ duration + acsim + sem_align", n_permutations=1000,
        scheme="within", method="batch", correction="fdr_by", alpha=0.05, n_dyads=12,
        n_cells=2,
    )  # fmt: skip
    text = methods_paragraph(params)
    for piece in [
        "phase-locking value (PLV) and circular correlation (CCorr)",
        "theta (4–8 Hz) band",
        "lags of 0 and 0.2 s",
        "200 circular-shift surrogates",
        "`sync_z ~ duration + acsim + sem_align`",
        "1000 permutations",
        "Benjamini–Yekutieli",
        "12 dyads",
        "covariates duration",
        "across 2 cells",
    ]:
        assert piece in text, piece
    t2 = methods_paragraph({**params, "correction": None, "n_permutations": 0,
                            "scheme": "pseudo", "acoustic": []})  # fmt: skip
    assert "permutation" not in t2 and "not corrected" in t2
    assert "without acoustic control" in t2


def test_partial_residuals_fwl():
    t = simulate_analysis_table(n_dyads=6, n_utterances=50, semantic_effect=0.4, random_state=0)
    pr = partial_residuals(t, controls=["acsim"])
    slope = pr.x_resid @ pr.y_resid / (pr.x_resid @ pr.x_resid)
    X = np.column_stack([t.acsim, t.sem_align, (t.dyad.to_numpy()[:, None] ==
                         np.unique(t.dyad)[None, :]).astype(float)])  # fmt: skip
    beta = np.linalg.lstsq(X, t.sync, rcond=None)[0]
    np.testing.assert_allclose(slope, beta[1], rtol=1e-8)


def test_plot_partial_regression():
    t = simulate_analysis_table(n_dyads=6, n_utterances=30, bands=("theta", "alpha"),
                                random_state=1)  # fmt: skip
    fig = plot_partial_regression(t, by="band")
    assert len(fig.axes) == 2
    assert fig.axes[0].get_title() == "theta"
    assert "slope" in fig.axes[0].texts[0].get_text()
