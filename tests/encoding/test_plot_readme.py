"""Figures and the README example (simulate, fit production and comprehension, plot)."""

from __future__ import annotations

import os

import numpy as np
import pytest

README_EXAMPLE = """
import numpy as np
from hyperalign.encoding import fit_word_encoding, plot_lag_curves
from hyperalign.simulation import simulate_conversation, word_vector
dyad, truth = simulate_conversation(duration=240, n_channels=16, sfreq=100, random_state=0)
X = np.stack([word_vector(w) for w in dyad.transcript.words["word"]])  # one row per word
kw = dict(participant=dyad.ids[0], lags="goldstein2022")
prod = fit_word_encoding(dyad, X, role="production", **kw)
comp = fit_word_encoding(dyad, X, role="comprehension", **kw)
plot_lag_curves([prod, comp], targets=["Pz", "CP1", "CP2"]).savefig("lag_curves.png")
"""


def test_readme_example(tmp_path):
    assert len(README_EXAMPLE.strip().splitlines()) <= 10
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        ns: dict = {}
        exec(README_EXAMPLE, ns)
    finally:
        os.chdir(cwd)
    assert (tmp_path / "lag_curves.png").stat().st_size > 1000
    roi = ["Pz", "CP1", "CP2"]
    assert abs(ns["prod"].peak_lag(target=roi) - -0.2) <= 0.025 + 1e-9
    assert abs(ns["comp"].peak_lag(target=roi) - 0.3) <= 0.025 + 1e-9


def test_plots(sim_dyad):
    import matplotlib

    matplotlib.use("Agg")
    from hyperalign.encoding import (
        fit_word_encoding,
        plot_lag_curves,
        plot_partition,
        plot_score_topomap,
    )

    dyad, _, W = sim_dyad
    pid = dyad.ids[0]
    lags = np.round(np.arange(-0.6, 0.61, 0.1), 3)
    res = fit_word_encoding(dyad, W, participant=pid, role="joint", lags=lags, window=0.2, cv=3,
                            inner_cv=3, n_permutations=9, random_state=0)  # fmt: skip
    fig = plot_lag_curves(res, targets=["Pz"])
    assert fig.axes[0].get_xlabel().startswith("lag")
    fig2 = plot_score_topomap(res, dyad[pid].raw.info)
    assert fig2.axes
    fig3 = plot_partition(res)
    assert len(fig3.axes[0].patches) == 2
    with pytest.raises(ValueError, match="not channels of info"):
        plot_score_topomap(res, dyad[pid].raw.copy().rename_channels({"Pz": "X1"}).info)
    import matplotlib.pyplot as plt

    plt.close("all")
