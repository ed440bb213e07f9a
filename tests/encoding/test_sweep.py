"""Layer sweeps: planted layers recovered, shared folds, PCA inside folds, controls, errors."""

from __future__ import annotations

import numpy as np
import pytest

from hyperalign.encoding.sweep import LayerSweep, sweep_layers

LAGS = np.array([-0.2, 0.1, 0.3, 0.5])


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


@pytest.fixture(scope="module")
def sweep(planted):
    dyad, truth, emb = planted
    return sweep_layers(dyad, emb, lags=LAGS, window=0.2, participants=[dyad.ids[0]],
                        roles=["comprehension"], rois=truth.layers["rois"])  # fmt: skip


def test_planted_layer_is_best_in_its_roi(planted, sweep):
    from hyperalign.encoding.hierarchy import best_layer

    tab = best_layer(sweep, roles=["comprehension"], n_boot=50).set_index("roi")
    assert abs(tab.loc["temporal", "layer_index"] - 1) <= 1
    assert abs(tab.loc["frontal", "layer_index"] - 5) <= 1
    res = sweep.get(planted[0].dyad_id, planted[0].ids[0], "comprehension")
    ds = res.dataset
    assert ds["r"].dims == ("layer", "target", "lag")
    assert list(ds["modality"].values) == ["text"] * 7
    assert ds["depth"].values[0] == 0 and ds["depth"].values[-1] == 1
    assert "no repetitions" in ds.attrs["noise_ceiling"]
    assert set(sweep.timings) == {"targets", "features", "pca", "solver", "scores"}
    df = sweep.to_data_frame()
    assert {"dyad", "participant", "role", "layer", "model", "modality", "depth", "r"} <= set(
        df.columns
    )
    assert len(df) == 7 * 5 * LAGS.size


def test_sweep_layer_equals_fit_word_encoding(planted, sweep):
    """Every layer of the sweep is the single-layer model on the same folds (exactly)."""
    from hyperalign.encoding import fit_word_encoding

    dyad, truth, emb = planted
    one = sweep_layers(dyad, emb, layers=[3], lags=LAGS, window=0.2,
                       participants=[dyad.ids[0]], roles=["comprehension"])  # fmt: skip
    ref = fit_word_encoding(dyad, emb, participant=dyad.ids[0], role="comprehension",
                            lags=LAGS, window=0.2, layer=3)  # fmt: skip
    got = next(iter(one.results.values())).dataset
    np.testing.assert_allclose(got["r"].values[0], ref.dataset["r"].values, rtol=1e-10)
    np.testing.assert_allclose(got["r2"].values[0], ref.dataset["r2"].values, rtol=1e-8)
    np.testing.assert_allclose(got["fold_r"].values[0], ref.dataset["fold_r"].values,
                               rtol=1e-8, atol=1e-12)  # fmt: skip
    np.testing.assert_array_equal(got["alpha"].values[0], ref.dataset["alpha"].values)
    np.testing.assert_array_equal(got["n_test"].values, ref.dataset["n_test"].values)


def test_fold_pca_spans_foldpca():
    from hyperalign.encoding.sweep import fold_pca
    from hyperalign.features import FoldPCA

    rng = np.random.default_rng(0)
    for n, p in ((40, 60), (80, 10)):
        X = rng.standard_normal((n, p)) @ rng.standard_normal((p, p))
        tr = np.arange(n - 10)
        Z = fold_pca(X, tr, 5)
        ref = FoldPCA(5).fit(X[tr]).transform(X)
        coef, *_ = np.linalg.lstsq(ref, Z, rcond=None)
        np.testing.assert_allclose(ref @ coef, Z, atol=1e-8)  # same subspace
        np.testing.assert_allclose(coef @ coef.T, np.eye(5), atol=1e-8)  # a rotation


def test_pca_is_fitted_on_training_words_only(planted, monkeypatch):
    """Axes fitted once per layer and fold on both speakers' training words, never a test
    word (nor one in the purge gap), and shared by both roles."""
    from hyperalign.encoding import _sweep_fit

    dyad, truth, emb = planted
    seen = []
    orig = _sweep_fit._pca_axes

    def spy(X, train, k):
        seen.append(np.asarray(train).copy())
        return orig(X, train, k)

    monkeypatch.setattr(_sweep_fit, "_pca_axes", spy)
    sw = sweep_layers(dyad, emb, layers=["layer_1"], lags=LAGS, window=0.2, n_components=8,
                      participants=[dyad.ids[0]])  # fmt: skip
    res = sw.get(dyad.dyad_id, dyad.ids[0], "comprehension")
    cv = res.attrs["cv"]
    assert len(seen) == len(cv["intervals"])  # once per fold, for both roles
    on = dyad.transcript.words["onset"].to_numpy(float)
    for train, (a, b) in zip(seen, cv["intervals"]):
        t = on[train]
        assert not np.any((t >= a - cv["gap"]) & (t < b + cv["gap"]))
    assert res.attrs["n_components"] == 8
    assert sw.timings["pca"] > 0


def test_controls_side_by_side(planted):
    from hyperalign.features import random_word_embeddings, shuffle_word_embeddings

    dyad, truth, emb = planted
    feats = {
        "sim": emb,
        "random": random_word_embeddings(dyad.transcript, dim=16),
        "shuffled": shuffle_word_embeddings(emb),
        "word_rate": np.arange(len(dyad.transcript.words), dtype=float)[:, None] % 7,
    }
    sw = sweep_layers(dyad, feats, layers={"sim": [1], "shuffled": ["layer_1"]}, lags=LAGS,
                      window=0.2, participants=[dyad.ids[0]], roles=["comprehension"],
                      rois={"temporal": ["T7", "T8"]})  # fmt: skip
    lay = sw.layers.set_index("layer")
    assert list(lay.index) == ["sim:layer_1", "random:random", "shuffled:layer_1", "word_rate"]
    assert list(lay["modality"]) == ["text", "control", "control", "control"]
    r = next(iter(sw.results.values())).dataset["r"].sel(target="temporal").max("lag")
    assert float(r.sel(layer="sim:layer_1")) > float(r.sel(layer="shuffled:layer_1")) + 0.2


def test_text_and_speech_layers_side_by_side(planted):
    from hyperalign.features.layers import LayerEmbeddings

    dyad, truth, emb = planted
    speech = LayerEmbeddings(emb.words, emb.data[:, :4], [f"encoder_{i}" for i in range(4)],
                             model="whisper-tiny.en")  # fmt: skip
    sw = sweep_layers(dyad, {"text": emb, "speech": speech}, layers={"text": [0, 6]},
                      lags=LAGS, window=0.2, participants=[dyad.ids[0]],
                      roles=["comprehension"], rois={"temporal": ["T7", "T8"]})  # fmt: skip
    lay = sw.layers
    assert list(lay["modality"]) == ["text"] * 2 + ["speech"] * 4
    np.testing.assert_allclose(lay["depth"], [0, 1, 0, 1 / 3, 2 / 3, 1])
    df = sw.to_data_frame()
    assert set(df["modality"]) == {"text", "speech"} and len(df) == 6 * LAGS.size


def test_self_baseline_next_to_layers(planted):
    dyad, truth, emb = planted
    sw = sweep_layers(dyad, emb, layers=[1], lags=LAGS, window=0.2, participants=[dyad.ids[0]],
                      roles=["comprehension"], rois={"temporal": ["T7", "T8"]},
                      self_baseline=True)  # fmt: skip
    ds = next(iter(sw.results.values())).dataset
    assert ds["r_self"].dims == ("target", "lag")
    assert np.isfinite(ds["r_self"].values).all()
    assert "r_self" in sw.to_data_frame().columns


def test_noise_ceiling_normalises(planted):
    dyad, truth, emb = planted
    ceil = np.full((1, LAGS.size), 0.5)
    sw = sweep_layers(dyad, emb, layers=[1], lags=LAGS, window=0.2, participants=[dyad.ids[0]],
                      roles=["comprehension"], rois={"temporal": ["T7", "T8"]},
                      noise_ceiling=ceil)  # fmt: skip
    ds = next(iter(sw.results.values())).dataset
    np.testing.assert_allclose(ds["r_norm"].values, ds["r"].values / 0.5)
    assert "r_norm" in sw.to_data_frame().columns


def test_sweep_errors(planted):
    dyad, truth, emb = planted
    kw = dict(lags=LAGS, window=0.2, participants=[dyad.ids[0]], roles=["comprehension"])
    with pytest.raises(ValueError, match=r"layers: layer 40 was asked but .* has only 7 layers"):
        sweep_layers(dyad, emb, layers=[0, 40], **kw)
    with pytest.raises(ValueError, match="layers: 'layer_99' is not a layer"):
        sweep_layers(dyad, emb, layers=["layer_99"], **kw)
    other = emb.words.copy()
    other.loc[3, "word"] = "zzzz"
    from hyperalign.features.layers import LayerEmbeddings

    bad = LayerEmbeddings(other, emb.data, emb.layer_names, model="sim")
    with pytest.raises(ValueError, match=r"features\['sim'\] of dyad .* does not match"):
        sweep_layers(dyad, {"sim": bad}, layers=[0], **kw)
    with pytest.raises(ValueError, match="too short for the folds"):
        sweep_layers(dyad, emb, layers=[0], cv=150, **kw)
    with pytest.raises(ValueError, match="rois names channels that are not among"):
        sweep_layers(dyad, emb, layers=[0], rois={"x": ["NOPE"]}, **kw)
    with pytest.raises(ValueError, match="features: give a list with one entry per dyad"):
        sweep_layers([dyad, dyad], emb, layers=[0], **kw)
    with pytest.raises(ValueError, match="roles must be one of"):
        sweep_layers(dyad, emb, roles=["joint"], lags=LAGS, window=0.2)


def test_layer_sweep_container(sweep):
    assert isinstance(sweep, LayerSweep)
    da = sweep.scores("r")
    assert da.dims == ("dyad", "participant", "role", "layer", "target", "lag")
    assert "LayerSweep" in repr(sweep)
    with pytest.raises(KeyError, match="no result for"):
        sweep.get("nope", "x", "comprehension")


def test_parallel_dyads_equal_serial(planted):
    dyad, truth, emb = planted
    kw = dict(layers=[1], lags=LAGS, window=0.2, participants=[dyad.ids[0]],
              roles=["comprehension"], rois={"temporal": ["T7", "T8"]})  # fmt: skip
    import copy

    other = copy.deepcopy(dyad)
    other.dyad_id = "sim-02"
    with pytest.raises(ValueError, match="dyads: dyad ids repeat"):
        sweep_layers([dyad, dyad], [emb, emb], **kw)
    ser = sweep_layers([dyad, other], [emb, emb], **kw)
    par = sweep_layers([dyad, other], [emb, emb], n_jobs=2, **kw)
    assert len(par.results) == 2 and par.dyads == ["sim-01", "sim-02"]
    for key, res in ser.results.items():
        np.testing.assert_array_equal(
            res.dataset["r"].values, par.results[key].dataset["r"].values
        )
