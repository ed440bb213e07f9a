"""The fast paths of the layer sweep: equal to the exact sweep where they claim to be, and
validated on planted layers where they are an approximation (``alpha_search``)."""

from __future__ import annotations

import numpy as np
import pytest

from hyperalign.encoding.sweep import sweep_arrays, sweep_layers

LAGS = np.array([-0.2, 0.1, 0.3, 0.5])


def _arrays(n=180, n_t=3, n_lag=40, seed=0):
    """Two layers, targets with a planted effect of the second, word times 0.5 s apart."""
    rng = np.random.default_rng(seed)
    X0, X1 = rng.standard_normal((n, 12)), rng.standard_normal((n, 30))
    w = rng.standard_normal((30, n_t * n_lag)) * 0.3
    Y = (X1 @ w + rng.standard_normal((n, n_t * n_lag))).reshape(n, n_t, n_lag)
    return {"l0": X0, "l1": X1}, Y, np.arange(n) * 0.5, {"lags": np.arange(n_lag) * 0.1}


def _gcv_brute(X, y, alpha):
    """GCV of ridge with an intercept from the explicit hat matrix."""
    n = len(y)
    Xc = X - X.mean(0)
    H = Xc @ np.linalg.solve(Xc.T @ Xc + alpha * np.eye(X.shape[1]), Xc.T) + 1.0 / n
    res = y - H @ y
    return (res @ res / n) / (1 - np.trace(H) / n) ** 2


@pytest.mark.parametrize("p", [8, 60], ids=["primal", "dual"])
def test_gcv_scores_equal_hat_matrix(p):
    from hyperalign.encoding._ridge_engine import _pool_B, _pool_sums, _prep_pool, gcv_scores
    from hyperalign.encoding._solvers_backend import Backend

    rng = np.random.default_rng(1)
    X, Y = rng.standard_normal((40, p)), rng.standard_normal((40, 3)) + 2.0
    alphas = np.logspace(-2, 3, 6)
    bk = Backend()
    Xg, Yg = X - X.mean(0), Y - Y.mean(0)
    pl = _prep_pool(bk, Xg, np.arange(40), True, "auto")
    S, sy = _pool_sums(bk, pl, Xg, Yg, Xg.T @ Yg, Yg.sum(0))
    got = gcv_scores(bk, pl, Yg, *_pool_B(bk, pl, Yg, S, sy, True), alphas, True)
    for j in range(3):
        ref = [_gcv_brute(X, Y[:, j], a) / Y[:, j].var() for a in alphas]
        np.testing.assert_allclose(-got[:, j], ref, rtol=1e-9)


def test_alpha_search_gcv_and_errors():
    layers, Y, t, lg = _arrays(n_lag=6)
    a = sweep_arrays(layers, Y, t, span=1.0, **lg).dataset
    g = sweep_arrays(layers, Y, t, span=1.0, **lg, alpha_search="gcv").dataset
    assert g.attrs["alpha_search"] == "gcv" and a.attrs["alpha_search"] == "inner_cv"
    assert np.isin(g["alpha"].values, a.attrs["alphas"]).all()
    assert np.argmax(g["r"].values.mean((1, 2))) == 1  # the planted layer
    np.testing.assert_allclose(g["r"].values[1].mean(), a["r"].values[1].mean(), atol=0.05)
    pc = sweep_arrays(layers, Y, t, span=1.0, **lg, alpha_search="gcv", n_components=5).dataset
    assert np.isfinite(pc["r"].values).all() and pc.attrs["n_components"] == 5
    with pytest.raises(ValueError, match=r"alpha_search must be one of .*; got 'loo'"):
        sweep_arrays(layers, Y, t, alpha_search="loo", **lg)


@pytest.fixture(scope="module")
def planted():
    from hyperalign.features.layers import LayerEmbeddings
    from hyperalign.simulation import simulate_conversation

    dyad, truth = simulate_conversation(
        duration=300, n_channels=16, sfreq=50, audio=False, random_state=0,
        layer_hierarchy=[{"roi": "temporal", "layer": 1}, {"roi": "frontal", "layer": 5}],
        layer_response=1.0,
    )  # fmt: skip
    return dyad, truth, LayerEmbeddings.from_truth(truth)


def test_gcv_search_recovers_planted_layers(planted):
    """Validation by simulation: the planted layer is the best in its ROI (within one)."""
    from hyperalign.encoding.hierarchy import best_layer

    dyad, truth, emb = planted
    sw = sweep_layers(dyad, emb, lags="zada2024", participants=[dyad.ids[0]],
                      roles=["comprehension"], rois=truth.layers["rois"],
                      alpha_search="gcv")  # fmt: skip
    tab = best_layer(sw, roles=["comprehension"], n_boot=20).set_index("roi")
    assert abs(tab.loc["temporal", "layer_index"] - 1) <= 1
    assert abs(tab.loc["frontal", "layer_index"] - 5) <= 1


def test_two_brains_on_the_same_words_share_one_fit(planted):
    """A speaker's production and the partner's comprehension are fitted together (same
    words, same folds); every number equals the separate fits."""
    import hyperalign.encoding._sweep_fit as sf

    dyad, truth, emb = planted
    kw = dict(layers=[0, 2], lags=LAGS, window=0.2, rois=truth.layers["rois"])
    calls = []
    orig = sf._sweep_core

    def spy(*a, **k):
        calls.append(a[1].shape[1])
        return orig(*a, **k)

    sf._sweep_core = spy
    try:
        both = sweep_layers(dyad, emb, **kw)
    finally:
        sf._sweep_core = orig
    assert len(both.results) == 4 and len(calls) < 4 and max(calls) == 2 * len(kw["rois"])
    p0, p1 = dyad.ids
    for pid, role in [(p0, "production"), (p1, "comprehension")]:
        one = sweep_layers(dyad, emb, participants=[pid], roles=[role], **kw)
        a, b = one.get(dyad.dyad_id, pid, role).dataset, both.get(dyad.dyad_id, pid, role).dataset
        np.testing.assert_allclose(b["r"].values, a["r"].values, rtol=1e-10, atol=1e-13)
        np.testing.assert_array_equal(b["alpha"].values, a["alpha"].values)
        assert list(b["target"].values) == list(a["target"].values)


@pytest.mark.parametrize("search", ["cv", "gcv"])
def test_sweep_engine_memory_flat_in_targets(search):
    """The sweep's engine path (predictions only, stacked penalty norms, or GCV): working
    memory beyond inputs and outputs does not grow with the number of targets."""
    import tracemalloc

    from hyperalign.encoding._ridge_engine import Task, run_tasks
    from hyperalign.encoding._solvers_backend import Backend
    from hyperalign.encoding.wordlevel import purged_inner_cv

    rng = np.random.default_rng(3)
    X = rng.standard_normal((150, 40))
    inner = purged_inner_cv(np.arange(150.0), 3, 2.0)
    tr, te = np.arange(0, 110), np.arange(115, 150)
    task = Task(pool=tr, folds=inner(tr), test=te)

    def extra(n_targets):
        Y = rng.standard_normal((150, n_targets))
        tracemalloc.start()
        (res,) = run_tasks(Backend(), X, Y, [task], np.logspace(-1, 4, 12), fit_intercept=True,
                           score="r", solver="auto", n_batch=200, keep_coef=False,
                           search=search)  # fmt: skip
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return peak - res.predictions.nbytes - 3 * res.best_alphas.nbytes

    small, large = extra(800), extra(3200)
    assert large < 1.3 * small + 2**20, (small, large)
