"""Significance: refitted nulls hold their nominal rate; max-stat, FDR, CIs, group tests."""

from __future__ import annotations

import numpy as np
import pytest

from hyperalign.encoding import (
    bootstrap_ci,
    fit_word_arrays,
    fit_word_encoding,
    group_test,
    null_targets,
    pvalues,
)
from hyperalign.encoding.significance import fdr_bh

N_WORDS, N_FEAT, N_CH, N_LAG = 160, 6, 3, 5


def _word_level_null(rng, *, effect: bool):
    """Words at ~0.4 s; targets autocorrelated over words and smooth over lags."""
    times = np.cumsum(rng.uniform(0.2, 0.6, N_WORDS))
    X = rng.standard_normal((N_WORDS, N_FEAT))
    e = rng.standard_normal((N_WORDS, N_CH, N_LAG + 2))
    for i in range(1, N_WORDS):  # AR(1) over words
        e[i] = 0.6 * e[i - 1] + 0.8 * e[i]
    Y = (e[..., :-2] + e[..., 1:-1] + e[..., 2:]).reshape(N_WORDS, -1)
    if effect:  # a real response, then the features are shuffled (the control)
        Y = Y + 0.5 * (X @ rng.standard_normal((N_FEAT, Y.shape[1])))
        X = X[rng.permutation(N_WORDS)]
    return {"features": X}, Y, times


@pytest.mark.parametrize("control", ["no_response", "shuffled_features"])
def test_null_rate_over_100_simulations(control):
    rng = np.random.default_rng(1 if control == "no_response" else 2)
    n_sim, alpha = 100, 0.05
    fwer_hits, unc = 0, []
    for _ in range(n_sim):
        spaces, Y, t = _word_level_null(rng, effect=control == "shuffled_features")
        res = fit_word_arrays(
            spaces, Y, t, span=1.0, cv=4, inner_cv=3, alphas=np.logspace(-1, 4, 6),
            n_permutations=39, null="circular", random_state=rng,
        )  # fmt: skip
        fwer_hits += bool((res["p_fwer"] <= alpha).any())
        unc.append(np.mean(res["p"] <= alpha))
    rate = fwer_hits / n_sim
    print(f"{control}: family-wise false-positive rate {rate:.2f}, per-target {np.mean(unc):.3f}")
    # binomial(100, 0.05): P(X > 12) < 0.001
    assert rate <= 0.12, rate
    assert np.mean(unc) <= 0.08


def test_planted_effect_significant_and_null_kinds(sim_dyad):
    dyad, truth, W = sim_dyad
    lags = np.round(np.arange(-0.6, 0.61, 0.1), 3)
    res = fit_word_encoding(
        dyad, W, participant=dyad.ids[0], lags=lags, window=0.2, cv=4, inner_cv=3,
        n_permutations=19, random_state=0,
    )  # fmt: skip
    ds = res.dataset
    assert {"p", "p_fwer", "p_fdr", "r_null_max"} <= set(ds.data_vars)
    chans = list(truth.effects.set_index("effect").loc["word_response_speaker", "channels"])
    assert float(ds["p_fwer"].sel(target=chans, lag=-0.2).min()) <= 0.05
    Y = np.random.default_rng(0).standard_normal((50, 3))
    for y in null_targets(Y, 2, method="phase", random_state=0):
        assert y.shape == Y.shape
        np.testing.assert_allclose(np.abs(np.fft.rfft(y, axis=0)), np.abs(np.fft.rfft(Y, axis=0)))
    with pytest.raises(ValueError, match="method must be one of"):
        next(null_targets(Y, 1, method="shuffle"))


def test_pvalues_and_fdr():
    null = np.array([[0.1, 0.2], [0.3, 0.0], [0.05, 0.1]])
    p = pvalues(np.array([0.25, 0.25]), null)
    np.testing.assert_allclose(p["p"], [2 / 4, 1 / 4])
    np.testing.assert_allclose(p["p_fwer"], [2 / 4, 2 / 4])  # maxima 0.2, 0.3, 0.1
    from statsmodels.stats.multitest import multipletests

    q = np.random.default_rng(0).uniform(size=30) ** 2
    np.testing.assert_allclose(fdr_bh(q), multipletests(q, method="fdr_bh")[1])


def test_bootstrap_ci_and_group(sim_dyad):
    dyad, _, W = sim_dyad
    lags = np.array([-0.2, 0.0, 0.3])
    res = [
        fit_word_encoding(dyad, W, participant=p, role=role, lags=lags, window=0.2, cv=4,
                          inner_cv=3)
        for p in dyad.ids
        for role in ("production", "comprehension")
    ]  # fmt: skip
    ci = bootstrap_ci(res[0], n_boot=200, random_state=0)
    ds = ci.dataset
    assert (ds["r_ci_low"] <= ds["r_ci_high"]).all()
    g = group_test(res, n_permutations=200, random_state=0)
    assert {"mean", "p", "p_fwer"} <= set(g.data_vars) and g["mean"].dims == ("target", "lag")
    b = group_test(res, method="bootstrap", n_permutations=200, random_state=0)
    assert (b["ci_low"] <= b["ci_high"]).all()
    with pytest.raises(ValueError, match="weights must be"):
        group_test(res, weights="n_channels")


def _fake_result(r, n_words):
    import xarray as xr

    from hyperalign.encoding import EncodingResult

    ds = xr.Dataset(
        {"r": (("target", "lag"), r)},
        coords={"target": [f"c{i}" for i in range(r.shape[0])], "lag": np.arange(r.shape[1])},
        attrs={"n_words": n_words},
    )
    return EncodingResult(ds)


def test_group_sign_flip_null_rate():
    """Word-weighted sign-flip with max-stat holds its nominal family-wise rate."""
    rng = np.random.default_rng(0)
    hits = 0
    for _ in range(200):
        res = [
            _fake_result(0.05 * rng.standard_normal((6, 4)), int(rng.integers(100, 400)))
            for _ in range(8)
        ]
        g = group_test(res, n_permutations=199, random_state=rng)
        hits += bool((g["p_fwer"] <= 0.05).any())
    assert hits / 200 <= 0.09, hits


def test_group_detects_planted_effect_over_participants():
    from hyperalign.simulation import simulate_study, word_vector

    dyads, _ = simulate_study(n_dyads=3, duration=150, n_channels=16, sfreq=100, audio=False,
                              random_state=1)  # fmt: skip
    lags = np.array([-0.6, -0.2, 0.3, 0.7])
    res = []
    for d in dyads:
        W = np.stack([word_vector(w) for w in d.transcript.words["word"]])
        for pid in d.ids:
            res.append(fit_word_encoding(d, W, participant=pid, lags=lags, window=0.2, cv=4,
                                         inner_cv=3))  # fmt: skip
    g = group_test(res, n_permutations=500, random_state=0)
    roi = ["Pz", "CP1", "CP2"]
    assert float(g["p_fwer"].sel(target=roi, lag=-0.2).min()) <= 0.05
    assert float(g["mean"].sel(target=roi).mean("target").idxmax("lag")) == -0.2
