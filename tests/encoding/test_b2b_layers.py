"""Model-based coupling over the layers of a model (``sweep_b2b``): a ``layer`` dim."""

from __future__ import annotations

import numpy as np
import pytest

from hyperalign.encoding._b2b_group import (
    b2b_group_test,
    plot_b2b_layers,
    plot_b2b_map,
    transfer_latency,
)
from hyperalign.encoding._b2b_result import read_b2b
from hyperalign.encoding.b2b import fit_b2b_coupling, sweep_b2b

QUIET = {"word_response": 0.0, "acoustic_entrainment": 0.0, "coupling_base": 0.0,
         "semantic_coupling": 0.0, "acoustic_coupling": 0.0, "audio": False}  # fmt: skip
ROW = {"speaker_roi": "frontal", "listener_roi": "parietal", "layer": "layer_3",
       "speaker_lag": -0.2, "listener_lag": 0.2, "size": 1.0}  # fmt: skip
LAGS = np.round(np.arange(-0.4, 0.41, 0.2), 3)
KW = {"lags": LAGS, "window": 0.1, "alphas": np.logspace(0, 5, 6), "inner_cv": 3}


def _sim(seed, row=ROW, duration=120):
    from hyperalign.features import LayerEmbeddings
    from hyperalign.simulation import simulate_conversation

    d, t = simulate_conversation(duration=duration, n_channels=16, random_state=seed,
                                 model_coupling=row, **QUIET)  # fmt: skip
    return d, LayerEmbeddings.from_truth(t), t.layers["rois"]


@pytest.fixture(scope="module")
def swept():
    d, emb, rois = _sim(11)
    return d, emb, rois, sweep_b2b(d, emb, rois=rois, cv=4, directions="s2l", **KW)


def test_planted_layer_is_the_peak_layer(swept):
    d, emb, rois, res = swept
    assert res.layers == [f"{emb.model}:{n}" for n in emb.layer_names]
    ds = res.dataset
    assert ds["r"].dims[0] == "layer"
    for c in ("model", "modality", "layer_name", "layer_index", "depth"):
        assert ds[c].dims == ("layer",)
    assert ds["depth"].values[0] == 0.0 and ds["depth"].values[-1] == 1.0
    pk = res.peak("raw", "s2l", roi_speaker="frontal", roi_listener="parietal")
    best = emb.layer_names.index(pk["layer"].split(":", 1)[1])
    assert abs(best - emb.layer_names.index("layer_3")) <= 1, pk
    assert (pk["speaker_lag"], pk["listener_lag"]) == (-0.2, 0.2)
    assert len(ds.attrs["n_features"]) == emb.n_layers


def test_layer_slice_equals_fit_b2b_coupling(swept):
    d, emb, rois, res = swept
    one = fit_b2b_coupling(d, emb, layer="layer_3", rois=rois, cv=4, directions="s2l", **KW)
    got = res.dataset["r"].sel(layer=f"{emb.model}:layer_3")
    np.testing.assert_allclose(got.values, one.dataset["r"].values, atol=1e-12)
    assert res.attrs["n_words"] == one.attrs["n_words"]
    assert res.attrs["fold_intervals"] == one.attrs["fold_intervals"]


def test_layer_dim_table_netcdf_plot_latency(swept, tmp_path):
    d, emb, rois, res = swept
    df = res.to_data_frame()
    assert list(df.columns[:7]) == ["dyad", "layer", "model", "modality", "layer_name",
                                    "layer_index", "depth"]  # fmt: skip
    assert df["layer"].nunique() == emb.n_layers
    back = read_b2b(res.save(tmp_path / "layers.nc"))
    assert back.layers == res.layers
    np.testing.assert_array_equal(back.dataset["depth"].values, res.dataset["depth"].values)
    np.testing.assert_array_equal(back.dataset["r"].values, res.dataset["r"].values)
    lay = f"{emb.model}:layer_3"
    fig = plot_b2b_map(res, direction="s2l", layer=lay)
    assert len([a for a in fig.axes if a.get_title()]) == 2  # raw, direct
    assert fig.axes[0].get_title() == f"raw | {lay}"
    with pytest.raises(ValueError, match=r"give layer= one of \['"):
        plot_b2b_map(res, direction="s2l")
    fig = plot_b2b_layers(res, direction="s2l", roi_speaker="frontal", roi_listener="parietal")
    (line,) = fig.axes[0].get_lines()
    np.testing.assert_allclose(line.get_xdata(), res.dataset["depth"].values)
    assert int(np.argmax(line.get_ydata())) == emb.layer_names.index("layer_3")
    with pytest.raises(ValueError, match="no layer dim; plot_b2b_layers needs maps from"):
        plot_b2b_layers(res.sel(layer=lay), direction="s2l")
    lat = transfer_latency([res, res], direction="s2l", layer=lay, roi_speaker="frontal",
                           roi_listener="parietal", n_boot=20, random_state=0)  # fmt: skip
    assert lat.latency == pytest.approx(0.4)


def test_group_test_keeps_layer_dim_and_coords(swept):
    d, emb, rois, res = swept
    d2, emb2, _ = _sim(12, duration=100)
    res2 = sweep_b2b(d2, emb2, rois=rois, cv=4, directions="s2l", **KW)
    g = b2b_group_test([res, res2], direction="s2l", n_permutations=50, random_state=0)
    assert g["mean"].dims[0] == "layer" and list(g["depth"].values) == list(
        res.dataset["depth"].values)  # fmt: skip
    assert g["p_fwer"].shape == g["mean"].shape
    assert len(plot_b2b_layers(g).axes[0].get_lines()) == 1
    short = res2.sel(layer=res2.layers[:3])
    with pytest.raises(ValueError, match="same rois=, layers and lags"):
        b2b_group_test([res, short], direction="s2l")


def test_same_null_draws_for_every_layer():
    d, emb, rois = _sim(13, duration=60)
    kw = {**KW, "rois": rois, "cv": 3, "directions": "s2l", "n_permutations": 5}
    res = sweep_b2b(d, emb, layers=["layer_1", "layer_5"], random_state=3, **kw)
    for name in ("layer_1", "layer_5"):
        one = sweep_b2b(d, emb, layers=[name], random_state=3, **kw)
        lab = f"{emb.model}:{name}"
        np.testing.assert_allclose(res.dataset["p_fwer"].sel(layer=lab).values,
                                   one.dataset["p_fwer"].sel(layer=lab).values)  # fmt: skip
    with pytest.raises(ValueError, match=r"layer 9 was asked but .* has only 7 layers"):
        sweep_b2b(d, emb, layers=[9], **kw)
