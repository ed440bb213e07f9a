"""Word-level lagged encoding: planted peaks, roles, joint model, bad inputs, results."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hyperalign.encoding import (
    EncodingResult,
    LeakageError,
    fit_word_encoding,
    make_folds,
    read_encoding,
    resolve_lags,
    word_windows,
)

LAGS = np.round(np.arange(-1.0, 1.0001, 0.05), 4)  # 41 lags, 50 ms steps


def test_presets():
    z = resolve_lags("zada2024")
    assert z.lags.size == 129 and z.window == 0.25
    assert np.isclose(z.lags[1] - z.lags[0], 0.0625)
    g = resolve_lags("goldstein2022")
    assert g.lags.size == 161 and g.window == 0.2 and np.isclose(g.lags[-1], 2.0)
    with pytest.raises(ValueError, match="window must be given"):
        resolve_lags([0.0, 0.1])
    with pytest.raises(ValueError, match="lags must be one of"):
        resolve_lags("zada")


def test_word_windows_equal_direct_means():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 1000))
    wl = resolve_lags([-0.5, 0.0, 0.25], window=0.1)
    on = np.array([0.2, 3.0, 5.5, 9.9])
    Y, keep, counts = word_windows(x, 100.0, on, wl)
    assert keep.tolist() == [False, True, True, False] and counts["outside"] == 2
    nw = 10
    for i, o in enumerate(on[keep]):
        for j, lag in enumerate(wl.lags):
            s = int(round((o + lag) * 100)) - nw // 2
            np.testing.assert_allclose(Y[i, :, j], x[:, s : s + nw].mean(1), rtol=1e-10)
    Y2, keep2, c2 = word_windows(x, 100.0, on, wl, segments=[5.0])
    assert c2["boundary"] == 1 and keep2.sum() == 1  # the word at 5.5 s straddles 5.0 s


@pytest.mark.parametrize("who", [0, 1])
@pytest.mark.parametrize(("role", "planted"), [("production", -0.2), ("comprehension", 0.3)])
def test_planted_peaks_recovered(sim_dyad, role, planted, who):
    dyad, truth, W = sim_dyad
    pid = dyad.ids[who]
    res = fit_word_encoding(dyad, W, participant=pid, role=role, lags=LAGS, window=0.2)
    chans = truth.effects.set_index("effect").loc[
        f"word_response_{'speaker' if role == 'production' else 'listener'}", "channels"
    ]
    peak = res.peak_lag(target=list(chans))
    assert abs(peak - planted) <= 0.05 + 1e-9, (role, peak)
    assert (peak < 0) == (role == "production")
    assert res.dataset["r"].sel(target=list(chans)).max() > 0.2
    assert res.attrs["n_words"] > 50 and res.dataset.sizes["fold"] == 5


def test_joint_model_and_roundtrip(sim_dyad, tmp_path):
    dyad, truth, W = sim_dyad
    res = fit_word_encoding(
        dyad,
        W,
        participant=dyad.ids[1],
        role="joint",
        lags=LAGS[::4],
        window=0.2,
        cv=3,
        inner_cv=3,
    )
    assert list(res.dataset["space"].values) == ["prod_features", "comp_features"]
    assert res.dataset["alpha"].dims == ("fold", "space", "target", "lag")
    df = res.to_data_frame()
    assert {"target", "lag", "r", "r2", "space", "split_r2", "role"} <= set(df.columns)
    path = res.save(tmp_path / "enc.nc")
    back = read_encoding(path)
    assert isinstance(back, EncodingResult)
    np.testing.assert_array_equal(back.dataset["r"].values, res.dataset["r"].values)
    assert back.attrs["cv"] == res.attrs["cv"] and back.attrs["role"] == "joint"
    with pytest.raises(FileExistsError, match="overwrite=True"):
        res.save(path)


def test_nuisance_band_and_regress(sim_dyad):
    dyad, _, W = sim_dyad
    kw = dict(participant=dyad.ids[0], lags=LAGS[::8], window=0.2, cv=3, inner_cv=3)
    band = fit_word_encoding(dyad, W, nuisance=["word_rate"], **kw)
    assert list(band.dataset["space"].values) == ["features", "nuis_word_rate"]
    reg = fit_word_encoding(dyad, W, nuisance=["word_rate"], nuisance_mode="regress", **kw)
    assert "space" not in reg.dataset.dims


def test_bad_inputs(sim_dyad):
    dyad, _, W = sim_dyad
    pid = dyad.ids[0]
    kw = dict(participant=pid, lags=LAGS[::8], window=0.2)
    with pytest.raises(ValueError, match="rows but the transcript has"):
        fit_word_encoding(dyad, W[:-1], **kw)
    words = dyad.transcript.words
    df = pd.DataFrame(W, columns=[f"f{i}" for i in range(16)])
    df.insert(0, "word", words["word"].to_numpy())
    df.loc[3, "word"] = "zebra"
    with pytest.raises(ValueError, match="does not match the transcript"):
        fit_word_encoding(dyad, df, **kw)
    const = W.copy()
    const[:, 2] = 1.0
    with pytest.raises(ValueError, match="constant columns"):
        fit_word_encoding(dyad, const, **kw)
    dup = np.column_stack([W, W[:, :1]])
    with pytest.raises(ValueError, match="duplicated"):
        fit_word_encoding(dyad, dup, **kw)
    with pytest.raises(ValueError, match="use shorter lags"):
        fit_word_encoding(dyad, W, participant=pid, lags=[-300.0, 300.0], window=0.2)
    with pytest.raises(ValueError, match="too few words for the folds"):
        fit_word_encoding(dyad, W, participant=pid, lags=LAGS, window=0.2, cv=300)
    t = words["onset"].to_numpy()[words["speaker"].to_numpy() == pid]
    leaky = make_folds(t, 5).split(t)  # index folds without purge
    with pytest.raises(LeakageError, match="gap="):
        fit_word_encoding(dyad, W, cv=leaky, **kw)
    with pytest.raises(ValueError, match="participant must be one of"):
        fit_word_encoding(dyad, W, participant="nobody", lags=LAGS, window=0.2)


def test_nan_features_excluded_and_counted(sim_dyad):
    dyad, _, W = sim_dyad
    pid = dyad.ids[0]
    Wn = W.copy()
    own = np.flatnonzero(dyad.transcript.words["speaker"].to_numpy() == pid)
    Wn[own[:7], 0] = np.nan
    res = fit_word_encoding(
        dyad, Wn, participant=pid, lags=LAGS[::8], window=0.2, cv=3, inner_cv=3
    )
    reasons = {r["reason"]: r["n"] for r in res.attrs["exclusions"]}
    assert reasons["NaN or inf features"] == 7


def test_regress_nuisance_inside_folds():
    """A confound that drives the targets and correlates with the features is removed."""
    from hyperalign.encoding import fit_word_arrays

    rng = np.random.default_rng(0)
    n = 300
    t = np.cumsum(rng.uniform(0.2, 0.6, n))
    X = rng.standard_normal((n, 5))
    N = X[:, :1] + 0.5 * rng.standard_normal((n, 1))
    Y = 3 * N + rng.standard_normal((n, 4))
    kw = dict(span=1.0, cv=4, inner_cv=3, alphas=np.logspace(-1, 4, 6))
    plain = fit_word_arrays({"x": X}, Y, t, **kw)
    reg = fit_word_arrays({"x": X}, Y, t, regress=N, n_permutations=19, random_state=0, **kw)
    assert plain["r"].min() > 0.5
    assert np.abs(reg["r"]).max() < 0.2
    assert reg["p_fwer"].min() > 0.05
    # the residualised reference targets are those of each fold's training OLS
    tr, te = reg["folds"][0]
    A = np.column_stack([np.ones(n), N])
    beta = np.linalg.lstsq(A[tr], Y[tr], rcond=None)[0]
    np.testing.assert_allclose(reg["out"]["Yref"][te], Y[te] - A[te] @ beta, rtol=1e-8)


def test_words_across_a_recording_boundary_excluded(sim_dyad):
    import mne

    dyad, _, W = sim_dyad
    d2 = dyad.copy()
    pid = d2.ids[0]
    raw = d2[pid].raw
    raw.set_annotations(mne.Annotations([120.0], [0.0], ["BAD boundary"]))
    res = fit_word_encoding(d2, W, participant=pid, lags=LAGS[::8], window=0.2, cv=3,
                            inner_cv=3)  # fmt: skip
    reasons = {r["reason"]: r["n"] for r in res.attrs["exclusions"]}
    assert reasons["a lag window straddles a recording boundary"] >= 1


@pytest.mark.parametrize("preset", ["zada2024", "goldstein2022"])
def test_presets_recover_planted_peaks(sim_dyad, preset):
    dyad, _, W = sim_dyad
    step = resolve_lags(preset).lags[1] - resolve_lags(preset).lags[0]
    roi = ["Pz", "CP1", "CP2"]
    for role, planted in (("production", -0.2), ("comprehension", 0.3)):
        res = fit_word_encoding(dyad, W, participant=dyad.ids[0], role=role, lags=preset)
        assert abs(res.peak_lag(target=roi) - planted) <= step + 1e-9, (preset, role)


def test_dataframe_features_match_array(sim_dyad):
    dyad, _, W = sim_dyad
    words = dyad.transcript.words
    df = pd.DataFrame(W, columns=[f"f{i}" for i in range(W.shape[1])])
    df.insert(0, "onset", words["onset"].to_numpy())
    df.insert(0, "word", words["word"].to_numpy())
    kw = dict(participant=dyad.ids[0], lags=LAGS[::8], window=0.2, cv=3, inner_cv=3)
    a = fit_word_encoding(dyad, W, **kw)
    b = fit_word_encoding(dyad, df, **kw)
    np.testing.assert_allclose(a.dataset["r"].values, b.dataset["r"].values)


def test_picks_and_forced_shuffled_folds(sim_dyad):
    from hyperalign.encoding import shuffled_folds

    dyad, _, W = sim_dyad
    pid = dyad.ids[0]
    kw = dict(participant=pid, lags=LAGS[::8], window=0.2, inner_cv=3)
    res = fit_word_encoding(dyad, W, picks=["Pz", "Cz"], cv=3, **kw)
    assert res.targets == ["Pz", "Cz"]
    prep = fit_word_encoding(dyad, W, cv=3, **kw)  # how many words survive the edges
    sh = shuffled_folds(prep.attrs["n_words"], 3, allow_shuffled="testing", random_state=0)
    forced = fit_word_encoding(dyad, W, cv=sh, **kw)
    assert forced.attrs["cv"]["reason"] == "testing" and forced.attrs["cv"]["scheme"] == "shuffled"
