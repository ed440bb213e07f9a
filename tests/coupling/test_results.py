"""Coupling container: dims, coords, tidy export, selection, averaging, netCDF round trip."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hyperalign.coupling import Coupling, compute_sync, compute_sync_epochs, read_coupling


@pytest.fixture(scope="module")
def con():
    rng = np.random.default_rng(0)
    data = rng.standard_normal((2, 4, 3, 256))
    meta = pd.DataFrame(
        {
            "utterance_id": ["u1", "u2", "u3", "u4"],
            "onset": [0.0, 2.5, 5.0, 7.5],
            "n": [1, 2, 3, 4],
        }
    )
    return compute_sync(
        data,
        128.0,
        {"theta": (4, 8), "alpha": (8, 13)},
        ["plv", "wpli"],
        lags=(-0.1, 0.0, 0.1),
        epochs_metadata=meta,
        ch_names=["Fz", "Cz", "Pz"],
        dyad_id="d01",
        participant_ids=("A", "B"),
    )


def test_dims_coords_attrs(con):
    da = con.xarray
    assert da.dims == ("metric", "epochs", "freqs", "lags", "node_in", "node_out")
    assert da.shape == (2, 4, 2, 3, 3, 3)
    assert con.metrics == ["plv", "wpli"]
    assert con.bands == {"theta": (4.0, 8.0), "alpha": (8.0, 13.0)}
    np.testing.assert_allclose(con.lags, [-0.1, 0.0, 0.1])
    assert con.node_in == ["Fz_S1", "Cz_S1", "Pz_S1"]
    assert con.node_out == ["Fz_S2", "Cz_S2", "Pz_S2"]
    assert list(da["utterance_id"].values) == ["u1", "u2", "u3", "u4"]
    assert con.attrs["sfreq"] == 128.0 and con.attrs["dyad_id"] == "d01"
    assert con.attrs["participant_ids"] == ["A", "B"]
    assert con.attrs["lag_samples"] == [-13, 0, 13]
    assert "S2 lags S1" in con.attrs["lag_convention"]
    r = repr(con)
    assert "d01" in r and "plv, wpli" in r and "theta 4-8 Hz" in r
    assert con.get_data("plv").shape == (4, 2, 3, 3, 3)
    with pytest.raises(ValueError, match="was not computed"):
        con.get_data("coh")


def test_to_data_frame(con):
    df = con.to_data_frame()
    assert list(df.columns) == [
        "dyad", "epoch", "utterance_id", "metric", "band", "lag", "node_in", "node_out", "value"
    ]  # fmt: skip
    assert len(df) == con.xarray.size
    row = df[
        (df.epoch == 2) & (df.metric == "wpli") & (df.band == "alpha") & (df.lag == 0.1)
        & (df.node_in == "Cz_S1") & (df.node_out == "Pz_S2")
    ]  # fmt: skip
    assert len(row) == 1 and row.utterance_id.item() == "u3" and row.dyad.item() == "d01"
    assert (
        row.value.item()
        == con.xarray.sel(
            metric="wpli", epochs=2, freqs="alpha", lags=0.1, node_in="Cz_S1", node_out="Pz_S2"
        ).item()
    )


def test_sel_and_mean(con):
    sub = con.sel(metric="plv", freqs="alpha", lags=0.0)
    assert sub.xarray.shape == (1, 4, 1, 1, 3, 3)
    m = con.mean("epochs")
    assert m.n_epochs == 1
    np.testing.assert_allclose(m.get_data()[:, 0], con.get_data().mean(axis=1))
    m2 = con.mean(["node_in", "node_out"])
    assert m2.node_in == ["mean"]
    np.testing.assert_allclose(m2.get_data()[..., 0, 0], con.get_data().mean(axis=(-1, -2)))
    with pytest.raises(ValueError, match="mean\\(\\) dims"):
        con.mean("metric")
    with pytest.raises(ValueError, match="sel\\(\\) takes the dims"):
        con.sel(channel="Fz")


def test_save_read_round_trip(con, tmp_path):
    path = con.save(tmp_path / "sub" / "con.nc")
    back = read_coupling(path)
    assert back == con  # exact: values, coords, attrs
    assert back.attrs["participant_ids"] == ["A", "B"]
    assert back.attrs["filter_kwargs"] == {}
    with pytest.raises(FileExistsError, match="overwrite=True"):
        con.save(path)
    con.save(path, overwrite=True)
    assert not list(tmp_path.glob("sub/.*part*"))  # no temporary file left
    with pytest.raises(FileNotFoundError, match="no Coupling file"):
        read_coupling(tmp_path / "missing.nc")


def test_compute_sync_epochs_uses_metadata():
    mne = pytest.importorskip("mne")
    rng = np.random.default_rng(1)
    info1 = mne.create_info(["Fz_S1", "Cz_S1"], 128.0, "eeg")
    info2 = mne.create_info(["Fz_S2", "Cz_S2"], 128.0, "eeg")
    meta = pd.DataFrame({"utterance_id": ["a", "b", "c"]})
    e1 = mne.EpochsArray(rng.standard_normal((3, 2, 256)), info1, metadata=meta, verbose=False)
    e2 = mne.EpochsArray(rng.standard_normal((3, 2, 256)), info2, verbose=False)
    c = compute_sync_epochs(e1, e2, {"theta": (4, 8)}, "plv")
    assert c.node_in == ["Fz_S1", "Cz_S1"] and c.node_out == ["Fz_S2", "Cz_S2"]
    assert list(c.xarray["utterance_id"].values) == ["a", "b", "c"]
    ref = compute_sync([e1.get_data(), e2.get_data()], 128.0, {"theta": (4, 8)}, "plv")
    np.testing.assert_array_equal(c.get_data(), ref.get_data())
    with pytest.raises(TypeError, match="must be an mne.Epochs"):
        compute_sync_epochs(e1, np.zeros(3))


def test_coupling_requires_dims():
    import xarray as xr

    with pytest.raises(ValueError, match="Coupling dims must be"):
        Coupling(xr.DataArray(np.zeros((2, 2)), dims=("a", "b")))
