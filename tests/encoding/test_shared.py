"""Folds shared by both brains and all layers (what layer sweeps and coupling build on)."""

from __future__ import annotations

import numpy as np

from hyperalign.encoding import fit_word_encoding, make_folds, partition_variance
from hyperalign.encoding.wordlevel import prepare_word_data, resolve_folds

LAGS = np.array([-0.2, 0.0, 0.3])


def test_two_brains_share_held_out_words(sim_dyad):
    """Speaker's production model and listener's comprehension model: same words per fold."""
    dyad, _, W = sim_dyad
    a, b = dyad.ids
    words = dyad.transcript.words
    folds = make_folds(words["onset"], 4, gap=0.5)
    spk = prepare_word_data(dyad, W, participant=a, role="production", lags=LAGS, window=0.2)
    lst = prepare_word_data(dyad, W, participant=b, role="comprehension", lags=LAGS, window=0.2)
    assert np.array_equal(spk["row_index"], lst["row_index"])  # the same words (a's)
    ts, tl = spk["words"]["onset"].to_numpy(), lst["words"]["onset"].to_numpy()
    fs = resolve_folds(folds, ts, all_times=words["onset"], span=0.5)[0]
    fl = resolve_folds(folds, tl, all_times=words["onset"], span=0.5)[0]
    for (tr1, te1), (tr2, te2) in zip(fs, fl):
        assert np.array_equal(te1, te2) and np.array_equal(tr1, tr2)
    r1 = fit_word_encoding(dyad, W, participant=a, role="production", lags=LAGS, window=0.2,
                           cv=folds, inner_cv=3)  # fmt: skip
    r2 = fit_word_encoding(dyad, W, participant=b, role="comprehension", lags=LAGS, window=0.2,
                           cv=folds, inner_cv=3)  # fmt: skip
    assert r1.attrs["cv"] == r2.attrs["cv"]
    assert np.array_equal(r1.dataset["n_test"].values, r2.dataset["n_test"].values)


def test_layer_sweep_one_set_of_folds(sim_dyad):
    from hyperalign.features.llm import LayerEmbeddings

    dyad, _, W = sim_dyad
    words = dyad.transcript.words
    rng = np.random.default_rng(0)
    data = np.stack([rng.standard_normal(W.shape), W, W + 2 * rng.standard_normal(W.shape)], 1)
    emb = LayerEmbeddings(words[["onset", "offset", "word", "speaker"]].copy(), data,
                          ["random", "planted", "noisy"], model="toy")  # fmt: skip
    res = fit_word_encoding(dyad, emb, participant=dyad.ids[0], layer="all", lags=LAGS,
                            window=0.2, cv=4, inner_cv=3)  # fmt: skip
    r = res.dataset["r"].sel(target=["Pz", "CP1", "CP2"], lag=-0.2).mean("target")
    assert list(res.dataset["layer"].values) == ["random", "planted", "noisy"]
    assert str(r.idxmax("layer").item()) == "planted"
    assert len({str(c) for c in [res.attrs["cv"]]}) == 1  # one cv description for all layers
    df = res.to_data_frame()
    assert {"layer", "target", "lag", "r"} <= set(df.columns)


def test_variance_partition(sim_dyad):
    dyad, _, W = sim_dyad
    rng = np.random.default_rng(1)
    noise = rng.standard_normal((W.shape[0], 4))
    kw = dict(participant=dyad.ids[0], lags=LAGS, window=0.2, cv=3, inner_cv=3)
    joint = fit_word_encoding(dyad, {"sem": W, "noise": noise}, **kw)
    sem = fit_word_encoding(dyad, {"sem": W}, **kw)
    nz = fit_word_encoding(dyad, {"noise": noise}, **kw)
    df = partition_variance(joint, {"sem": sem, "noise": nz})
    u = df[(df["component"] == "unique:sem") & (df["target"] == "Pz") & (df["lag"] == -0.2)]
    assert float(u["r2"].iloc[0]) > 0.05


def test_make_word_folds(sim_dyad):
    from hyperalign.encoding import make_word_folds, resolve_lags

    dyad, _, W = sim_dyad
    f = make_word_folds(dyad, 4, lags="goldstein2022")
    assert f.gap == resolve_lags("goldstein2022").span and f.n_splits == 4
    ft = make_word_folds(dyad, 4, lags="goldstein2022", by="turns")
    onsets = set(dyad.transcript.utterances["onset"].round(9))
    assert all(round(a, 9) in onsets for a, _ in ft.intervals[1:])
    res = fit_word_encoding(dyad, W, participant=dyad.ids[1], lags=LAGS, window=0.2, cv=ft,
                            inner_cv=3)  # fmt: skip
    assert res.attrs["cv"]["scheme"] == "turns"
