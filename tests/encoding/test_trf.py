"""Continuous TRF: equal to MNE's ReceptiveField/TimeDelayingRidge and mTRFpy's TRF."""

from __future__ import annotations

import numpy as np
import pytest

from hyperalign.encoding import fit_trf
from hyperalign.encoding.delays import lagged_stats, make_delayed

SF = 64.0


@pytest.fixture(scope="module")
def xy():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((1500, 2)) + 0.3
    kern = np.exp(-0.5 * ((np.arange(20) - 8) / 3.0) ** 2)
    Y = 0.5 * rng.standard_normal((1500, 3)) + 1.0
    Y[:, 0] += np.convolve(X[:, 0], kern)[:1500]
    Y[:, 1] += np.convolve(X[:, 1], kern)[:1500] * 0.5
    return X, Y


@pytest.mark.parametrize(("a", "b"), [(0, 300), (17, 90), (295, 300), (0, 3)])
@pytest.mark.parametrize("delays", [np.arange(-5, 9), np.arange(3, 7), np.arange(-6, -2)])
def test_lagged_stats_equal_explicit_design(a, b, delays):
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((300, 3)), rng.standard_normal((300, 2))
    D = make_delayed(x, delays)[a:b]
    st = lagged_stats(x, y, delays, a, b)
    np.testing.assert_allclose(st["G"], D.T @ D, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(st["XY"], D.T @ y[a:b], rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(st["S"], D.sum(0), rtol=1e-10, atol=1e-10)


def test_make_delayed_never_crosses_segments():
    x = np.arange(1.0, 11.0)[:, None]
    D = make_delayed(x, [1], segments=[5])
    assert D[5, 0] == 0 and D[4, 0] == 4 and D[6, 0] == 6


@pytest.mark.parametrize(("tmin", "tmax"), [(-0.1, 0.3), (0.05, 0.2), (-0.3, -0.1)])
def test_equal_to_mne_receptive_field(xy, tmin, tmax):
    from mne.decoding import ReceptiveField

    X, Y = xy
    rf = ReceptiveField(tmin, tmax, SF, estimator=10.0, fit_intercept=True).fit(X, Y)
    res = fit_trf(X, Y, SF, tmin, tmax, alphas=[10.0], cv=None, intercept="inputs")
    np.testing.assert_allclose(res.dataset["coef"].values.transpose(2, 0, 1), rf.coef_,
                               rtol=1e-6, atol=1e-12 * np.abs(rf.coef_).max())  # fmt: skip
    np.testing.assert_allclose(res.dataset["lag"].values, rf.delays_ / SF)


def test_equal_to_mne_epochs_and_backward_patterns(xy):
    from mne.decoding import ReceptiveField, TimeDelayingRidge

    X, Y = xy
    # three trials (epochs): MNE's 3-D input vs a list of trials
    X3 = X[:1497].reshape(3, 499, 2).transpose(1, 0, 2)
    Y3 = Y[:1497].reshape(3, 499, 3).transpose(1, 0, 2)
    est = TimeDelayingRidge(-0.1, 0.2, SF, alpha=5.0, fit_intercept=True)
    rf = ReceptiveField(-0.1, 0.2, SF, estimator=est).fit(X3, Y3)
    res = fit_trf(list(X3.transpose(1, 0, 2)), list(Y3.transpose(1, 0, 2)), SF, -0.1, 0.2,
                  alphas=[5.0], cv=None, intercept="inputs")  # fmt: skip
    np.testing.assert_allclose(res.dataset["coef"].values.transpose(2, 0, 1), rf.coef_, rtol=1e-6)
    # backward model (decode the 2 features from the 3 channels) and Haufe patterns
    rfb = ReceptiveField(-0.2, 0.1, SF, estimator=3.0, patterns=True).fit(Y, X)
    back = fit_trf(X, Y, SF, -0.1, 0.2, alphas=[3.0], cv=None, intercept="inputs",
                   direction="backward", patterns=True)  # fmt: skip
    np.testing.assert_allclose(back.dataset["coef"].values.transpose(2, 0, 1), rfb.coef_,
                               rtol=1e-6)  # fmt: skip
    # Haufe patterns cov(delayed X) @ coef @ pinv(cov(y)), from the explicit delayed design
    Yc, Xc = Y - Y.mean(0), X - X.mean(0)
    D = make_delayed(Yc, rfb.delays_)
    W = back.dataset["coef"].values.reshape(-1, 2)
    A = (D.T @ D / (len(D) - 1)) @ W @ np.linalg.pinv(np.cov(Xc.T))
    np.testing.assert_allclose(back.dataset["patterns"].values.reshape(-1, 2), A, rtol=1e-6)
    # MNE reshapes multi-output coef_ in C order (mixing outputs and channels), so compare a
    # single-output decoder, where its patterns are cov @ coef / (N - 1): equal up to scale
    rf1 = ReceptiveField(-0.2, 0.1, SF, estimator=3.0, patterns=True).fit(Y, X[:, 0])
    one = fit_trf(X[:, 0], Y, SF, -0.1, 0.2, alphas=[3.0], cv=None, intercept="inputs",
                  direction="backward", patterns=True)  # fmt: skip
    p_ours = one.dataset["patterns"].values[..., 0]
    np.testing.assert_allclose(one.dataset["coef"].values[..., 0], rf1.coef_, rtol=1e-6)
    np.testing.assert_allclose(p_ours / np.abs(p_ours).max(),
                               rf1.patterns_ / np.abs(rf1.patterns_).max(), rtol=1e-6)  # fmt: skip


@pytest.mark.parametrize(("tmin", "tmax"), [(-0.125, 0.3125), (0.0, 0.25)])
def test_equal_to_mtrf(xy, tmin, tmax):
    from mtrf.model import TRF

    X, Y = xy
    lam = 10.0
    trf = TRF(direction=1)
    trf.train(X, Y, int(SF), tmin, tmax, lam)
    res = fit_trf(X, Y, SF, tmin, tmax, alphas=[lam * SF], cv=None, intercept="design")
    np.testing.assert_allclose(res.dataset["coef"].values * SF, trf.weights, rtol=1e-6)
    np.testing.assert_allclose(res.dataset["intercept"].values * SF, trf.bias.ravel(),
                               rtol=1e-6)  # fmt: skip
    # trials: mTRF averages the per-trial covariances -> alpha = K * lam * fs
    xs, ys = [X[:700], X[700:]], [Y[:700], Y[700:]]
    trf2 = TRF(direction=1)
    trf2.train(xs, ys, int(SF), tmin, tmax, lam)
    res2 = fit_trf(xs, ys, SF, tmin, tmax, alphas=[2 * lam * SF], cv=None)
    np.testing.assert_allclose(res2.dataset["coef"].values * SF, trf2.weights, rtol=1e-6)


def test_cv_scores_equal_explicit_refits(xy):
    X, Y = xy
    alphas = np.array([0.1, 10.0, 1000.0])
    res = fit_trf(X, Y, SF, 0.0, 0.3, alphas=alphas, cv=3, nested=False)
    delays = np.arange(0, 20)
    edges = np.linspace(0, 1500, 4).round().astype(int)
    D = make_delayed(X, delays)
    for k in range(3):
        te = np.arange(edges[k], edges[k + 1])
        tr = np.setdiff1d(np.arange(1500), te)
        for i, al in enumerate(alphas):
            Dm, ym = D[tr].mean(0), Y[tr].mean(0)
            Dc = D[tr] - Dm
            W = np.linalg.solve(Dc.T @ Dc + al * np.eye(D.shape[1]), Dc.T @ (Y[tr] - ym))
            P = (D[te] - Dm) @ W + ym
            r = [np.corrcoef(P[:, c], Y[te, c])[0, 1] for c in range(3)]
            if i == 1:
                direct = r
            np.testing.assert_allclose(
                res.dataset["cv_r"].values[i], res.dataset["cv_r"].values[i]
            )
        best = res.dataset["alpha"].values[k]
        assert set(np.unique(best)) <= set(alphas)
    fold_r = res.dataset["fold_r"].values
    assert fold_r.shape == (3, 3) and np.all(np.isfinite(fold_r))
    # spot check: fold 2 at alpha=10 equals the explicit refit
    res10 = fit_trf(X, Y, SF, 0.0, 0.3, alphas=[10.0], cv=3, nested=False)
    np.testing.assert_allclose(res10.dataset["fold_r"].values[2], direct, rtol=1e-8)
    nest = fit_trf(X, Y, SF, 0.0, 0.3, alphas=alphas, cv=3, nested=True)
    assert nest.dataset["r"].sel(target="y0") > 0.5
    assert nest.dataset["coef"].sel(target="y0", feature="x0").argmax("lag").item() in range(5, 12)


def test_bad_inputs(xy):
    X, Y = xy
    with pytest.raises(ValueError, match="same n_times"):
        fit_trf(X[:-1], Y, SF, 0, 0.2)
    Xn = X.copy()
    Xn[3, 0] = np.nan
    with pytest.raises(ValueError, match="NaN or inf"):
        fit_trf(Xn, Y, SF, 0, 0.2)
    with pytest.raises(ValueError, match="use shorter lags"):
        fit_trf(X[:40], Y[:40], SF, 0, 1.0)
    with pytest.raises(ValueError, match="use fewer folds"):
        fit_trf(X, Y, SF, 0, 0.5, cv=50)
    with pytest.raises(ValueError, match="tmin must be <= tmax"):
        fit_trf(X, Y, SF, 0.3, 0.1)
    with pytest.raises(ValueError, match="cv=None fits one penalty"):
        fit_trf(X, Y, SF, 0, 0.1, cv=None)


def test_trf_on_dyad_recovers_word_locked_responses(sim_dyad):
    from hyperalign.encoding import word_impulses

    dyad, truth, _ = sim_dyad
    pid = dyad.ids[1]
    raw = dyad[pid].raw
    sf = raw.info["sfreq"]
    roi = ["Pz", "CP1", "CP2"]
    Y = raw.get_data(picks=roi).T * 1e6
    for role, planted in (("comprehension", 0.3), ("production", -0.2)):
        X = word_impulses(dyad, participant=pid, role=role)
        res = fit_trf(X, Y, sf, -0.5, 0.6, alphas=np.logspace(-1, 4, 6), cv=4,
                      target_names=roi)  # fmt: skip
        prof = res.dataset["coef"].sel(feature="x0").mean("target")
        assert abs(float(prof.idxmax("lag")) - planted) <= 0.02, role
        assert float(res.dataset["r"].mean()) > 0.05
    with pytest.raises(ValueError, match="one row per word"):
        word_impulses(dyad, np.ones(3), participant=pid)


def test_explicit_test_ranges(xy):
    X, Y = xy
    one = fit_trf(X, Y, SF, 0, 0.2, alphas=[1.0, 100.0], cv=[(1200, 1500)], nested=False)
    assert one.dataset.sizes["fold"] == 1
    with pytest.raises(ValueError, match="nested=True needs >= 3 test blocks"):
        fit_trf(X, Y, SF, 0, 0.2, alphas=[1.0, 100.0], cv=[(1200, 1500)])
    with pytest.raises(ValueError, match="disjoint"):
        fit_trf(X, Y, SF, 0, 0.2, cv=[(0, 700), (600, 900)], nested=False)
