"""Planted layer hierarchy and model-based coupling in the simulator."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hyperalign.simulation import default_rois, derived_layer_features, simulate_conversation

QUIET = {  # no other planted activity: only the background and the layer effects
    "word_response": 0.0,
    "acoustic_entrainment": 0.0,
    "coupling_base": 0.0,
    "semantic_coupling": 0.0,
    "acoustic_coupling": 0.0,
    "audio": False,
}
HIER = [
    {"roi": "temporal", "layer": "layer_1", "lag": 0.15, "size": 1.0},
    {"roi": "parietal", "layer": "layer_5", "lag": 0.35, "size": 1.0},
]


@pytest.fixture(scope="module")
def hier():
    return simulate_conversation(
        duration=150, n_channels=16, random_state=7, layer_hierarchy=HIER, **QUIET
    )


def _values(dyad, pid, chans, onsets, lag):
    raw = dyad[pid].raw
    x = raw.get_data(picks=chans) / 20e-6
    idx = np.round((onsets + lag) * raw.info["sfreq"]).astype(int)
    ok = (idx >= 0) & (idx < x.shape[1])
    return x[:, np.clip(idx, 0, x.shape[1] - 1)].T, ok  # (n_words, n_chans)


def _cv_r2(X, Y, alpha=100.0, k=5):
    """Out-of-fold R^2 (mean over columns of Y) of a ridge regression."""
    X = (X - X.mean(0)) / np.where(X.std(0) > 0, X.std(0), 1)
    folds = np.array_split(np.arange(len(X)), k)
    pred = np.zeros_like(Y)
    for f in folds:
        tr = np.setdiff1d(np.arange(len(X)), f)
        mu = Y[tr].mean(0)
        B = np.linalg.solve(X[tr].T @ X[tr] + alpha * np.eye(X.shape[1]), X[tr].T @ (Y[tr] - mu))
        pred[f] = X[f] @ B + mu
    ss = ((Y - pred) ** 2).sum(0) / ((Y - Y.mean(0)) ** 2).sum(0)
    return float(np.mean(1 - ss))


def _listener_r2(dyad, truth, roi, lag):
    """CV R^2 of every planted layer for the ROI's listener responses (both participants)."""
    data = truth.layers["layer_data"]
    words = truth.words
    chans = truth.layers["rois"][roi]
    out = np.zeros(data.shape[1])
    for pid in dyad.ids:
        sel = (words["speaker"] != pid).to_numpy()
        Y, ok = _values(dyad, pid, chans, words["onset"].to_numpy()[sel], lag)
        for k in range(data.shape[1]):
            out[k] += _cv_r2(data[sel][ok, k].astype(float), Y[ok]) / len(dyad.ids)
    return out


def test_planted_rows_and_features_in_truth(hier):
    dyad, truth = hier
    eff = truth.effects
    lay = eff[eff["effect"] == "layer_response"]
    assert lay[["roi", "layer", "lag_s", "size"]].to_dict("records") == [
        {"roi": "temporal", "layer": "layer_1", "lag_s": 0.15, "size": 1.0},
        {"roi": "parietal", "layer": "layer_5", "lag_s": 0.35, "size": 1.0},
    ]
    assert lay["role"].tolist() == ["listener"] * 2 and not lay["null"].any()
    assert lay["model"].eq("simulated-layers").all() and lay["layer_index"].tolist() == [1, 5]
    assert lay["channels"].iloc[0] == truth.layers["rois"]["temporal"] == ["T7", "T8"]
    assert eff["effect"].iloc[:7].tolist()[0] == "acoustic_entrainment"  # old rows first
    n = len(dyad.transcript.words)
    assert truth.layers["layer_data"].shape == (n, 7, 64)
    assert truth.layers["layer_names"] == ["embeddings"] + [f"layer_{k}" for k in range(1, 7)]
    assert truth.layers["source"] == "derived"
    w = truth.layers["weights"][("layer_response", 0, dyad.ids[0])]
    np.testing.assert_allclose(np.linalg.norm(w, axis=1), 1.0)
    from hyperalign.features import LayerEmbeddings

    le = LayerEmbeddings.from_truth(truth)
    assert (
        le.data.shape == (n, 7, 64)
        and le.words["word"].tolist() == dyad.transcript.words["word"].tolist()
    )


def test_knobs_leave_everything_else_identical(hier):
    """The layer effects draw from their own generator: the rest of the dyad is unchanged."""
    dyad, truth = hier
    d0, t0 = simulate_conversation(duration=150, n_channels=16, random_state=7, **QUIET)
    pd.testing.assert_frame_equal(d0.transcript.words, dyad.transcript.words)
    pd.testing.assert_frame_equal(
        t0.effects, truth.effects.iloc[: len(t0.effects)][t0.effects.columns]
    )
    planted = set(truth.layers["rois"]["temporal"]) | set(truth.layers["rois"]["parietal"])
    for pid in dyad.ids:
        a, b = d0[pid].raw, dyad[pid].raw
        other = [c for c in a.ch_names if c not in planted]
        np.testing.assert_array_equal(a.get_data(picks=other), b.get_data(picks=other))
        assert not np.allclose(
            a.get_data(picks=sorted(planted)), b.get_data(picks=sorted(planted))
        )
    assert t0.layers is None and "layer_hierarchy" not in d0.meta["simulation"]


def test_planted_layer_is_best_in_its_roi_and_lag(hier):
    dyad, truth = hier
    for roi, best, lag in (("temporal", 1, 0.15), ("parietal", 5, 0.35)):
        r2 = _listener_r2(dyad, truth, roi, lag)
        assert abs(int(np.argmax(r2)) - best) <= 1, (roi, r2.round(3))
        assert r2[best] > 0.1 and r2[best] > r2[best + 3 if best < 3 else best - 4] + 0.1
        off = _listener_r2(dyad, truth, roi, lag + 0.3)
        assert r2[best] > off[best] + 0.1  # the planted lag beats a lag 300 ms later


def test_model_coupling_at_the_planted_lag_pair_and_null():
    row = {"speaker_roi": "frontal", "listener_roi": "parietal", "layer": "layer_3",
           "speaker_lag": -0.2, "listener_lag": 0.3, "size": 1.0}  # fmt: skip

    def corr(null, s_lag, l_lag):
        d, t = simulate_conversation(
            duration=120, n_channels=16, random_state=11, model_coupling={**row, "null": null},
            **QUIET,
        )  # fmt: skip
        w = t.words
        r = []
        for spk in d.ids:
            lst = d.other(spk).id
            on = w.loc[w["speaker"] == spk, "onset"].to_numpy()
            xs, ok1 = _values(d, spk, t.layers["rois"]["frontal"], on, s_lag)
            xl, ok2 = _values(d, lst, t.layers["rois"]["parietal"], on, l_lag)
            ok = ok1 & ok2
            r.append(np.corrcoef(xs[ok].mean(1), xl[ok].mean(1))[0, 1])
        return float(np.mean(r)), t

    r_true, t = corr(False, -0.2, 0.3)
    eff = t.effects[t.effects["effect"] == "model_coupling"].iloc[0]
    assert (eff["speaker_lag_s"], eff["listener_lag_s"], eff["size"]) == (-0.2, 0.3, 1.0)
    assert eff["roi"] == "frontal->parietal" and eff["layer"] == "layer_3"
    assert abs(eff["lag_s"] - 0.5) < 1e-12
    r_off, _ = corr(False, -0.2, 0.6)
    r_null, tn = corr(True, -0.2, 0.3)
    # neighbouring words share context (their layer vectors correlate), so a listener lag one
    # word later still correlates, less than the planted pair
    assert r_true > 0.5 and r_true > r_off + 0.15 and abs(r_null) < 0.15, (r_true, r_off, r_null)
    v_s, v_l = tn.layers["coupling_vectors"][0]
    assert abs(v_s @ v_l) < 0.5  # null: independent projections


def test_given_sources_and_errors():
    def glove(tr):
        rng = np.random.default_rng(0)
        return {"glove": rng.standard_normal((tr.n_words, 8)), "envelope": np.ones(tr.n_words)}

    d, t = simulate_conversation(
        duration=30, n_channels=8, random_state=1, layer_features=glove,
        layer_hierarchy={"temporal": "glove", "frontal": "envelope"}, **QUIET,
    )  # fmt: skip
    assert t.layers["source"] == "given" and t.layers["layer_data"] is None
    assert t.effects["layer"].dropna().tolist() == ["glove", "envelope"]
    assert d.meta["simulation"]["layer_features"] == "function"
    kw = {"duration": 30, "n_channels": 8, "random_state": 1, **QUIET}
    with pytest.raises(ValueError, match=r"unknown ROI 'hippocampus'; the simulated ROIs are"):
        simulate_conversation(layer_hierarchy={"hippocampus": 2}, **kw)
    with pytest.raises(ValueError, match=r"unknown layer or feature space 'layer_9'"):
        simulate_conversation(layer_hierarchy={"temporal": "layer_9"}, **kw)
    with pytest.raises(ValueError, match=r"layer_features has 3 words but the simulated"):
        simulate_conversation(layer_hierarchy={"temporal": 0}, layer_features=_Fake(3), **kw)
    with pytest.raises(ValueError, match=r"model_coupling rows need 'speaker_roi'"):
        simulate_conversation(model_coupling={"roi": "temporal", "layer": 1}, **kw)
    with pytest.raises(ValueError, match=r"rois: channels \{'x': \['Q9'\]\}"):
        simulate_conversation(layer_hierarchy={"x": 1}, rois={"x": ["Q9"]}, **kw)


class _Fake:
    def __init__(self, n):
        self.words = pd.DataFrame({"word": ["a"] * n})
        self.data = np.zeros((n, 2, 4))
        self.layer_names = ["l0", "l1"]


def test_derived_features_deterministic_and_deepening():
    words = pd.DataFrame({"word": ["so", "what", "did", "you", "cook", "pasta"] * 20})
    sent = np.repeat(np.arange(12), 10)
    a, names = derived_layer_features(words, sent)
    b, _ = derived_layer_features(words, sent)
    np.testing.assert_array_equal(a, b)
    assert a.shape == (120, 7, 64) and names[0] == "embeddings" and names[-1] == "layer_6"
    # the sentence signal grows with depth: words of one sentence get more alike
    same = sent[:, None] == sent[None, :]

    def within(k):
        x = a[:, k] / np.linalg.norm(a[:, k], axis=1, keepdims=True)
        c = x @ x.T
        return c[same & ~np.eye(120, dtype=bool)].mean() - c[~same].mean()

    assert within(6) > within(3) > within(0)
    assert default_rois(["Fz", "Cz", "T7", "T8", "FC1", "Pz", "Oz"]) == {
        "frontal": ["Fz"], "central": ["Cz", "FC1"], "temporal": ["T7", "T8"],
        "parietal": ["Pz"], "occipital": ["Oz"],
    }  # fmt: skip
