"""Hierarchy summaries: best layer with CIs, profiles, depth-lag correlation, the test."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from hyperalign.encoding.hierarchy import (
    best_layer,
    depth_lag_correlation,
    hierarchy_test,
    layer_profile,
)
from hyperalign.encoding.sweep import LayerSweep, sweep_arrays

ROIS = ["temporal", "parietal", "frontal"]


def _layers(rng, n, n_layers, d):
    """Layer-like features: each layer mixes the previous one with fresh noise."""
    h = rng.standard_normal((n, d))
    out = [h]
    for _ in range(n_layers - 1):
        h = 0.5 * h + np.sqrt(0.75) * rng.standard_normal((n, d))
        out.append(h)
    return out


def _oof_r(Xs, Y, n_folds=5, alpha=10.0):
    """Out-of-fold r of a fixed-penalty ridge (contiguous blocks): (n_layers, n_targets)."""
    n = Y.shape[0]
    blocks = np.array_split(np.arange(n), n_folds)
    out = np.empty((len(Xs), Y.shape[1]))
    for k, X in enumerate(Xs):
        P = np.empty_like(Y)
        for te in blocks:
            tr = np.setdiff1d(np.arange(n), te)
            mx, my = X[tr].mean(0), Y[tr].mean(0)
            Xc = X[tr] - mx
            W = np.linalg.solve(Xc.T @ Xc + alpha * np.eye(X.shape[1]), Xc.T @ (Y[tr] - my))
            P[te] = (X[te] - mx) @ W + my
        Yc, Pc = Y - Y.mean(0), P - P.mean(0)
        out[k] = (Yc * Pc).sum(0) / np.sqrt((Yc**2).sum(0) * (Pc**2).sum(0))
    return out


def _profiles(rng, planted, *, n_dyads=6, n_layers=6, n=240, d=8, size=0.5):
    """Word-level simulated study -> profiles (dyad, roi, layer) from out-of-fold r."""
    prof = np.empty((n_dyads, len(planted), n_layers))
    for i in range(n_dyads):
        Xs = _layers(rng, n, n_layers, d)
        Y = np.column_stack([Xs[lay] @ rng.standard_normal(d) * size / np.sqrt(d)
                             for lay in planted])  # fmt: skip
        Y += rng.standard_normal(Y.shape)
        prof[i] = _oof_r(Xs, Y).T
    return xr.DataArray(
        prof,
        dims=("dyad", "roi", "layer"),
        coords={"dyad": [f"d{i}" for i in range(n_dyads)], "roi": ROIS,
                "layer": [f"layer_{k}" for k in range(n_layers)]},
    )  # fmt: skip


def test_hierarchy_detects_planted_order_not_shuffled():
    prof = _profiles(np.random.default_rng(1), planted=(1, 3, 5))
    res = hierarchy_test(prof, ROIS, n_permutations=999, random_state=0)
    assert res.statistic > 0.8
    assert res.p_value < 0.01
    shuffled = hierarchy_test(prof, ["frontal", "temporal", "parietal"], n_permutations=999)
    assert shuffled.p_value > 0.2
    df = res.to_data_frame()
    assert df.loc[0, "order"] == "temporal -> parietal -> frontal"
    assert set(res.preferred["roi"]) == set(ROIS)


@pytest.mark.slow
def test_hierarchy_null_rate_over_120_studies():
    """All ROIs respond to the same layer: p < 0.05 in at most ~5% of 120 simulated studies."""
    rng = np.random.default_rng(2)
    ps = np.array([
        hierarchy_test(_profiles(rng, planted=(2, 2, 2), n_dyads=5, n_layers=5, n=160,
                                 size=0.3), ROIS, n_permutations=99, random_state=k).p_value
        for k in range(120)
    ])  # fmt: skip
    rate = float(np.mean(ps < 0.05))
    # binomial(120, 0.05): 99% of rates at or below 0.1
    assert rate <= 0.1, rate
    assert np.mean(ps < 0.5) > 0.2  # the statistic varies under the null (not all ties)


def test_hierarchy_errors():
    prof = _profiles(np.random.default_rng(3), planted=(1, 3, 5), n_dyads=2)
    with pytest.raises(ValueError, match=r"order must name at least 2 distinct ROIs.*occipital"):
        hierarchy_test(prof, ["temporal", "occipital"])
    with pytest.raises(ValueError, match="at least 2 distinct"):
        hierarchy_test(prof, ["temporal"])


def _array_sweep(planted=(1, 4), n_dyads=4, n_layers=6, seed=0):
    """A LayerSweep of several dyads from the real pipeline on word-level planted targets."""
    rng = np.random.default_rng(seed)
    results = {}
    n, d = 300, 8
    lags = np.array([-0.2, 0.0, 0.2, 0.4])
    for i in range(n_dyads):
        Xs = _layers(rng, n, n_layers, d)
        Y = np.zeros((n, 2, lags.size))
        for j, lay in enumerate(planted):
            # ROI j responds to its layer, most at lag index 1 + j (deeper layer, later lag)
            sig = Xs[lay] @ rng.standard_normal(d) / np.sqrt(d)
            for k in range(lags.size):
                Y[:, j, k] = sig * (1.0 if k == 1 + j else 0.3)
        Y += rng.standard_normal(Y.shape)
        res = sweep_arrays({f"layer_{k}": x for k, x in enumerate(Xs)}, Y,
                           np.arange(n) * 0.4, span=1.0, target_names=["A", "B"], lags=lags,
                           alphas=np.logspace(0, 4, 5))  # fmt: skip
        results[(f"d{i}", "P1", "comprehension")] = res
    return LayerSweep(results)


@pytest.fixture(scope="module")
def array_sweep():
    return _array_sweep()


def test_best_layer_recovers_planted_with_ci(array_sweep):
    tab = best_layer(array_sweep, roles=["comprehension"], n_boot=200)
    got = dict(zip(tab["roi"], tab["layer_index"]))
    assert abs(got["A"] - 1) <= 1 and abs(got["B"] - 4) <= 1
    for _, row in tab.iterrows():
        assert row["ci_low"] <= row["layer_index"] <= row["ci_high"]
        assert row["n_dyads"] == 4
    prof = layer_profile(array_sweep, role="comprehension")
    assert prof.groupby("roi")["score_norm"].max().round(12).eq(1.0).all()
    dl = depth_lag_correlation(array_sweep, n_boot=100)
    assert list(dl.columns[:4]) == ["roi", "rho", "ci_low", "ci_high"]
    ht = hierarchy_test(array_sweep, ["A", "B"], n_permutations=199)
    assert ht.statistic > 0.5


def test_plot_layer_profiles(array_sweep):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from hyperalign.encoding.hierarchy import plot_layer_profiles

    fig = plot_layer_profiles(array_sweep)
    assert len(fig.axes) == 2 and fig.axes[0].get_title() == "A"
    plt.close(fig)


def test_summaries_errors(array_sweep):
    with pytest.raises(ValueError, match=r"rois\['x'\] names targets that were not fitted"):
        best_layer(array_sweep, rois={"x": ["nope"]}, roles=["comprehension"])
    with pytest.raises(ValueError, match="role must be one of"):
        best_layer(array_sweep, roles=["production"])
    with pytest.raises(ValueError, match="lag_range"):
        best_layer(array_sweep, roles=["comprehension"], lag_range=(5, 6))
