"""Model-based brain-to-brain coupling: planted lag pair, residual vs direct, nulls, errors."""

from __future__ import annotations

import numpy as np
import pytest

from hyperalign.encoding._b2b_group import b2b_group_test, plot_b2b_map, transfer_latency
from hyperalign.encoding._b2b_result import read_b2b
from hyperalign.encoding.b2b import b2b_arrays, fit_b2b_coupling

from ._b2b_planted import LAGS, planted_b2b

ALPHAS = np.logspace(-1, 4, 6)
KW = {"speaker_lags": LAGS, "cv": 5, "span": 1.2, "alphas": ALPHAS, "inner_cv": 3}


def _fit(d, **kw):
    return b2b_arrays(d["X"], d["Y_speaker"], d["Y_listener"], d["times"],
                      speakers=d["speakers"], **{**KW, **kw})  # fmt: skip


def _peak(res, map_type, direction, pair=("s0", "l1")):
    r = res.dataset["r"].sel(map_type=map_type, direction=direction, roi_speaker=pair[0],
                             roi_listener=pair[1]).values  # fmt: skip
    i, j = np.unravel_index(int(np.argmax(r)), r.shape)
    return LAGS[i], LAGS[j], r[i, j]


def test_peak_at_planted_lag_pair_every_direction():
    hits = 0
    for seed in range(4):
        res = _fit(planted_b2b(effect="semantic", seed=seed), directions="both")
        for direction in ("s2l", "l2s", "sym"):
            ls, ll, _ = _peak(res, "raw", direction)
            hits += abs(ls + 0.2) <= 0.1 + 1e-9 and abs(ll - 0.3) <= 0.1 + 1e-9
        # the pair map's maximum over all ROI pairs is the planted pair
        r = res.dataset["r"].sel(map_type="raw", direction="sym")
        best = r.max(("speaker_lag", "listener_lag")).values
        assert np.unravel_index(int(np.argmax(best)), best.shape) == (0, 1)
    assert hits == 12


def test_s2l_equals_manual_nested_ridge_on_shared_folds():
    from hyperalign.encoding import make_folds, nested_ridge_cv
    from hyperalign.encoding.wordlevel import purged_inner_cv

    d = planted_b2b(n_words=300, seed=3)
    one = np.full(300, "A")
    res = b2b_arrays(d["X"], d["Y_speaker"], d["Y_listener"], d["times"], speakers=one,
                     directions="s2l", **KW)  # fmt: skip
    folds = make_folds(d["times"], 5, gap=1.2).split(d["times"])
    fit = nested_ridge_cv(d["X"], d["Y_speaker"].reshape(300, -1), alphas=ALPHAS,
                          outer_cv=folds, inner_cv=purged_inner_cv(d["times"], 3, 1.2),
                          edge_warning=None)  # fmt: skip
    P = fit.predictions_
    ok = np.isfinite(P[:, 0])
    c = np.corrcoef(P[ok].T, d["Y_listener"].reshape(300, -1)[ok].T)[:22, 22:]
    want = c.reshape(2, 11, 2, 11).transpose(0, 2, 1, 3)
    got = res.dataset["r"].sel(map_type="raw", direction="s2l").values
    np.testing.assert_allclose(got, want, atol=1e-10)
    assert res.attrs["n_words"] == ok.sum()


def test_residual_removes_acoustic_coupling_keeps_semantic():
    out = {}
    for eff in ("acoustic", "semantic"):
        d = planted_b2b(effect=eff, seed=5)
        out[eff] = _fit(d, nuisance=d["acoustic"], n_permutations=19, random_state=0)
    ac, se = out["acoustic"].dataset, out["semantic"].dataset
    pair = {"roi_speaker": "s0", "roi_listener": "l1", "speaker_lag": -0.2, "listener_lag": 0.3}
    for direction in ("s2l", "l2s", "sym"):
        sel = {**pair, "direction": direction}
        # acoustic: raw and direct maps show it, the residual map does not
        assert ac["r"].sel(map_type="raw", **sel) > 0.3
        assert ac["p_fwer"].sel(map_type="raw", **sel) <= 0.05
        assert ac["r"].sel(map_type="direct", **sel) > 0.2
        assert abs(float(ac["r"].sel(map_type="residual", **sel))) < 0.1
        assert float(ac["p_fwer"].sel(map_type="residual", direction=direction).min()) > 0.05
        # semantic: the residual map keeps it, at the planted pair
        assert se["r"].sel(map_type="residual", **sel) > 0.3
        assert se["p_fwer"].sel(map_type="residual", **sel) <= 0.05
        ls, ll, _ = _peak(out["semantic"], "residual", direction)
        assert (ls, ll) == (-0.2, 0.3)


def _null_rate(null, n_studies, n_perm=19):
    hits = 0
    for s in range(n_studies):
        d = planted_b2b(n_words=200, effect="none", seed=1000 + s)
        pseudo = None
        if null == "pseudo":  # listeners of other conversations at these words
            pseudo = [planted_b2b(n_words=200, effect="none", seed=5000 + 50 * s + k)
                      ["Y_listener"] for k in range(n_perm)]  # fmt: skip
        res = _fit(d, directions="s2l", n_permutations=n_perm, null=null, turns=d["turns"],
                   pseudo_listeners=pseudo, random_state=s)  # fmt: skip
        hits += float(res.dataset["p_fwer"].sel(map_type="raw").min()) <= 0.05
    return hits / n_studies


def test_null_rate_quick():
    assert _null_rate("circular", 10) <= 0.3


@pytest.mark.slow
@pytest.mark.parametrize("null", ["circular", "phase", "shuffle_turns", "pseudo"])
def test_null_rate_over_100_studies(null):
    rate = _null_rate(null, 100)
    print(f"b2b null={null}: family-wise rate {rate:.3f} over 100 studies")
    assert rate <= 0.11  # nominal 0.05; binomial 99% upper bound for 100 studies


def test_group_map_and_transfer_latency():
    res = [_fit(planted_b2b(n_words=250 + 30 * i, seed=20 + i), directions="s2l")
           for i in range(6)]  # fmt: skip
    g = b2b_group_test(res, direction="s2l", n_permutations=999, random_state=0)
    at = {"roi_speaker": "s0", "roi_listener": "l1", "speaker_lag": -0.2, "listener_lag": 0.3}
    assert g["p_fwer"].sel(**at) <= 0.05 and g["mean"].sel(**at) > 0.3
    w = np.array([r.attrs["n_words"] for r in res], float)
    want = sum(wi * r.dataset["r"].sel(map_type="raw", direction="s2l", **at) for wi, r in
               zip(w / w.sum(), res))  # fmt: skip
    np.testing.assert_allclose(g["mean"].sel(**at), want)
    lat = transfer_latency(res, direction="s2l", roi_speaker="s0", roi_listener="l1",
                           n_boot=200, random_state=0)  # fmt: skip
    assert lat.latency == pytest.approx(0.5) and lat.ci_low <= 0.5 <= lat.ci_high
    assert list(lat.to_data_frame().columns)[:3] == ["latency", "ci_low", "ci_high"]
    assert len(lat.per_dyad) == 6
    fig = plot_b2b_map(g)
    bt = b2b_group_test(res, direction="s2l", method="bootstrap", n_permutations=500,
                        random_state=0)  # fmt: skip
    assert bt["ci_low"].sel(**at) > 0.2 and bt["p"].sel(**at) < 0.01
    assert len(fig.axes) >= 1
    with pytest.raises(ValueError, match="fit every dyad with the same rois"):
        b2b_group_test([res[0], res[1].sel(roi_listener=["l0"])], direction="s2l")


def test_container_save_read_plot(tmp_path):
    d = planted_b2b(n_words=250, seed=2)
    res = _fit(d, nuisance=d["acoustic"], n_permutations=9, random_state=0)
    df = res.to_data_frame()
    assert list(df.columns) == ["dyad", "map_type", "direction", "roi_speaker", "roi_listener",
                                "speaker_lag", "listener_lag", "r", "p", "p_fwer"]  # fmt: skip
    assert len(df) == 3 * 3 * 2 * 2 * 11 * 11
    path = res.save(tmp_path / "b2b.nc")
    back = read_b2b(path)
    assert back == res or back.dataset.equals(res.dataset)
    assert back.attrs["n_permutations"] == 9
    pk = res.peak("raw", "sym", roi_speaker="s0", roi_listener="l1")
    assert pk["latency"] == pytest.approx(pk["listener_lag"] - pk["speaker_lag"])
    fig = plot_b2b_map(res, roi_speaker="s0", roi_listener="l1")
    assert len([a for a in fig.axes if a.get_title()]) == 3
    with pytest.raises(FileExistsError, match="overwrite=True"):
        res.save(path)


def test_errors():
    d = planted_b2b(n_words=200, seed=4)
    with pytest.raises(ValueError, match=r"Y_listener must be \(n_words, n_rois, n_lags\)"):
        b2b_arrays(d["X"], d["Y_speaker"], d["Y_listener"][:-1], d["times"], **KW)
    with pytest.raises(ValueError, match="too few words for the folds"):
        b2b_arrays(d["X"][:20], d["Y_speaker"][:20], d["Y_listener"][:20], d["times"][:20],
                   **{**KW, "cv": 10})  # fmt: skip
    spk = np.where(np.arange(200) < 30, "B", "A")  # B speaks only at the start
    msg = r"holds out 30 words of speaker 'B' \(and trains on 0\).*fewer folds"
    with pytest.raises(ValueError, match=msg):
        b2b_arrays(d["X"], d["Y_speaker"], d["Y_listener"], d["times"], speakers=spk, **KW)
    with pytest.raises(ValueError, match="null='shuffle_turns' needs turns="):
        _fit(d, n_permutations=2, null="shuffle_turns")
    with pytest.raises(ValueError, match="null='pseudo' needs pseudo_listeners="):
        _fit(d, null="pseudo")
    with pytest.raises(ValueError, match="directions"):
        _fit(d, directions="up")


QUIET = {"word_response": 0.0, "acoustic_entrainment": 0.0, "coupling_base": 0.0,
         "semantic_coupling": 0.0, "acoustic_coupling": 0.0, "audio": False}  # fmt: skip
ROW = {"speaker_roi": "frontal", "listener_roi": "parietal", "layer": "layer_3",
       "speaker_lag": -0.2, "listener_lag": 0.3, "size": 1.0}  # fmt: skip
DLAGS = np.round(np.arange(-0.5, 0.61, 0.1), 3)


@pytest.fixture(scope="module")
def sim():
    from hyperalign.simulation import simulate_conversation

    return simulate_conversation(duration=120, n_channels=16, random_state=11,
                                 model_coupling=ROW, **QUIET)  # fmt: skip


def test_dyad_simulated_model_coupling_peak_and_shared_rows(sim):
    from hyperalign.encoding import make_word_folds
    from hyperalign.encoding.wordlevel import resolve_lags, word_windows

    d, t = sim
    X, rois = t.layers["spaces"]["layer_3"], t.layers["rois"]
    folds = make_word_folds(d, 5, lags=DLAGS, window=0.1)
    res = fit_b2b_coupling(d, X, lags=DLAGS, window=0.1, rois=rois, cv=folds,
                           alphas=np.logspace(0, 5, 6))  # fmt: skip
    for direction in ("s2l", "l2s", "sym"):
        pk = res.peak("raw", direction, roi_speaker="frontal", roi_listener="parietal")
        assert (pk["speaker_lag"], pk["listener_lag"]) == (-0.2, 0.3), (direction, pk)
    best = res.dataset["r"].sel(map_type="raw", direction="sym")
    best = best.max(("speaker_lag", "listener_lag"))
    i, j = np.unravel_index(int(np.argmax(best.values)), best.shape)
    assert (best["roi_speaker"].values[i], best["roi_listener"].values[j]) == (
        "frontal", "parietal")  # fmt: skip
    assert res.attrs["n_folds"] == 5 and res.attrs["n_words"] == len(d.transcript.words)
    # both brains are split by the same test intervals on the clock
    assert res.attrs["fold_intervals"] == [[float(a), float(b)] for a, b in folds.intervals]
    # the direct (model-free) map: the speaker's and the listener's windows at the same words
    w = d.transcript.words
    wl = resolve_lags(DLAGS, 0.1)
    on = w["onset"].to_numpy()
    raw = {p: d[p].raw for p in d.ids}
    ch = rois["frontal"]
    a = {p: word_windows(raw[p].get_data(picks=ch), d.sfreq, on, wl)[0].mean(1) for p in d.ids}
    chl = rois["parietal"]
    b = {p: word_windows(raw[p].get_data(picks=chl), d.sfreq, on, wl)[0].mean(1) for p in d.ids}
    spk = w["speaker"].astype(str).to_numpy()
    ys = np.where((spk == d.ids[0])[:, None], a[d.ids[0]], a[d.ids[1]])
    yl = np.where((spk == d.ids[0])[:, None], b[d.ids[1]], b[d.ids[0]])
    want = np.corrcoef(ys.T, yl.T)[:12, 12:]
    got = res.dataset["r"].sel(map_type="direct", direction="sym", roi_speaker="frontal",
                               roi_listener="parietal").values  # fmt: skip
    np.testing.assert_allclose(got, want, atol=1e-10)


def test_dyad_pseudo_listeners_matched_on_length_and_errors(sim, tmp_path):
    from hyperalign.simulation import simulate_conversation

    d, t = sim
    X, rois = t.layers["spaces"]["layer_3"], t.layers["rois"]
    other, _ = simulate_conversation(duration=100, n_channels=16, random_state=12, **QUIET)
    res = fit_b2b_coupling(d, X, lags=DLAGS, window=0.1, rois=rois, null="pseudo",
                           pseudo_dyads=[other], directions="s2l",
                           alphas=np.logspace(0, 5, 6))  # fmt: skip
    assert res.attrs["null"] == "pseudo" and res.attrs["n_permutations"] == 1
    n_late = int((d.transcript.words["onset"] > 100 - 0.61).sum())
    assert res.attrs["n_words"] <= len(d.transcript.words) - n_late + 1
    assert any("pseudo-listener" in e["reason"] for e in res.attrs["exclusions"])
    back = read_b2b(res.save(tmp_path / "pseudo.nc"))
    assert back.attrs["exclusions"] == res.attrs["exclusions"]
    assert back.attrs["rois"] == {k: list(v) for k, v in rois.items()}
    np.testing.assert_array_equal(back.dataset["r"].values, res.dataset["r"].values)
    with pytest.raises(ValueError, match="has 302 rows but the transcript has 303 words"):
        fit_b2b_coupling(d, X[:-1], lags=DLAGS, window=0.1, rois=rois)
    with pytest.raises(ValueError, match=r"rois\['x'\] names channels \['Q9'\]"):
        fit_b2b_coupling(d, X, lags=DLAGS, window=0.1, rois={"x": ["Q9"]})
    with pytest.raises(ValueError, match="too few words for the folds"):
        short = d.copy().crop(0, 12)  # a dyad too short for 10 folds
        fit_b2b_coupling(short, X[: len(short.transcript.words)], lags=DLAGS, window=0.1,
                         rois=rois, cv=10)  # fmt: skip
    with pytest.raises(ValueError, match="null='pseudo' needs pseudo_dyads="):
        fit_b2b_coupling(d, X, lags=DLAGS, window=0.1, rois=rois, null="pseudo")


def test_null_refits_batched_equal_one_by_one():
    from hyperalign.encoding import b2b as mod

    d = planted_b2b(n_words=200, seed=8)
    seen = {}
    orig = mod._Maps.maps_batch

    def spy(self, tables):
        out = orig(self, tables)
        seen.setdefault("engine", self)
        seen.setdefault("batches", []).append((tables, out))
        return out

    mod._Maps.maps_batch = spy
    try:
        _fit(d, nuisance=d["acoustic"], n_permutations=3, random_state=0)
    finally:
        mod._Maps.maps_batch = orig
    tables, outs = seen["batches"][-1]
    assert len(tables) == 3
    for y, o in zip(tables, outs):
        single = seen["engine"].maps(y)
        for k in o:
            np.testing.assert_allclose(o[k], single[k], atol=1e-10)


@pytest.mark.slow
def test_null_rate_refitted_directions_over_100_studies():
    hits = {"s2l": 0, "l2s": 0, "sym": 0}
    for s in range(100):
        d = planted_b2b(n_words=200, effect="none", seed=2000 + s)
        res = _fit(d, n_permutations=19, random_state=s)
        for k in hits:
            hits[k] += float(res.dataset["p_fwer"].sel(map_type="raw", direction=k).min()) <= 0.05
    print(f"b2b circular null, family-wise rates over 100 studies: {hits} (/100)")
    assert max(hits.values()) <= 11


@pytest.mark.slow
def test_group_sign_flip_null_rate_over_100_studies():
    hits = 0
    for s in range(100):
        res = [_fit(planted_b2b(n_words=150, effect="none", seed=10_000 + 10 * s + i),
                    directions="s2l") for i in range(6)]  # fmt: skip
        g = b2b_group_test(res, direction="s2l", n_permutations=199, random_state=s)
        hits += float(g["p_fwer"].min()) <= 0.05
    print(f"b2b group sign-flip null: family-wise rate {hits / 100:.3f} over 100 groups")
    assert hits <= 11


def test_dyad_nuisance_residual_and_guards(sim):
    d, t = sim
    X, rois = t.layers["spaces"]["layer_3"], t.layers["rois"]
    kw = {"lags": DLAGS, "window": 0.1, "rois": rois, "alphas": np.logspace(0, 5, 6)}
    res = fit_b2b_coupling(d, X, nuisance=["word_rate"], directions="s2l", **kw)
    assert list(res.dataset["map_type"].values) == ["raw", "residual", "direct"]
    pk = res.peak("residual", "s2l", roi_speaker="frontal", roi_listener="parietal")
    assert (pk["speaker_lag"], pk["listener_lag"]) == (-0.2, 0.3)
    with pytest.raises(ValueError, match=r"nuisance \['speaking'\] is relative to one"):
        fit_b2b_coupling(d, X, nuisance="speaking", **kw)
    big = np.zeros((40, 100, 50))
    with pytest.raises(ValueError, match="give rois= .channel groups., fewer picks"):
        b2b_arrays(np.ones((40, 2)), big, big, np.arange(40.0), speaker_lags=np.arange(50.0))


@pytest.mark.slow
@pytest.mark.parametrize(("size", "least"), [(0.4, 70), (0.6, 95)])
def test_peak_recovery_rate_over_100_studies(size, least):
    hits = {"s2l": 0, "l2s": 0, "sym": 0}
    for s in range(100):
        d = planted_b2b(n_words=300, effect="semantic", size=size, seed=3000 + s)
        res = _fit(d)
        for k in hits:
            ls, ll, _ = _peak(res, "raw", k)
            hits[k] += int(abs(ls + 0.2) <= 0.1 + 1e-9 and abs(ll - 0.3) <= 0.1 + 1e-9)
    print(f"b2b peak within one step of the planted pair, 100 studies (size {size}): {hits}")
    assert min(hits.values()) >= least
