"""``map_type`` (was ``kind``): the brain-to-brain map type, its deprecated aliases and the
maps of earlier versions (a ``kind`` dim) read with the dim renamed."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
import xarray as xr

from hyperalign.encoding import (
    B2BCoupling,
    b2b_group_test,
    plot_b2b_layers,
    plot_b2b_map,
    read_b2b,
    transfer_latency,
)

TYPES = ["raw", "residual", "direct"]
LAGS = np.array([-0.1, 0.0, 0.1])


def _maps(seed: int, dim: str = "map_type", layers: bool = False) -> B2BCoupling:
    rng = np.random.default_rng(seed)
    shape = (3, 1, 1, 1, 3, 3)
    r = rng.normal(0, 0.05, shape)
    r[:, 0, 0, 0, 1, 2] += np.array([0.5, 0.2, 0.4])  # each map type peaks at (0.0, +0.1)
    coords = {dim: TYPES, "direction": ["sym"], "roi_speaker": ["s"], "roi_listener": ["l"],
              "speaker_lag": LAGS, "listener_lag": LAGS}  # fmt: skip
    dims = (dim, "direction", "roi_speaker", "roi_listener", "speaker_lag", "listener_lag")
    ds = xr.Dataset({"r": (dims, r)}, coords=coords, attrs={"n_words": 100, "dyad_id": f"d{seed}"})
    if layers:
        ds = xr.concat([ds, ds * 0.5], dim="layer").assign_coords(
            layer=["m:l1", "m:l2"], model=("layer", ["m", "m"]),
            modality=("layer", ["text", "text"]), depth=("layer", [0.5, 1.0]),
        )  # fmt: skip
    return B2BCoupling(ds)


def test_map_type_dim_column_and_attrs():
    res = _maps(0)
    assert list(res.dataset["map_type"].values) == TYPES
    assert res.to_data_frame().columns[1] == "map_type"
    assert res.peak(map_type="direct")["listener_lag"] == pytest.approx(0.1)
    g = b2b_group_test([_maps(s) for s in range(4)], map_type="residual", n_permutations=20,
                       random_state=0)  # fmt: skip
    assert g.attrs["map_type"] == "residual" and "kind" not in g.attrs


def test_kind_aliases_warn_and_give_the_same_numbers():
    maps = [_maps(s) for s in range(4)]
    new = b2b_group_test(maps, map_type="direct", n_permutations=20, random_state=0)
    with pytest.warns(FutureWarning, match=r"b2b_group_test\(kind=\.\.\.\).*use map_type="):
        old = b2b_group_test(maps, kind="direct", n_permutations=20, random_state=0)
    xr.testing.assert_identical(new, old)
    with pytest.warns(FutureWarning, match=r"transfer_latency\(kind=.*use map_type="):
        lat = transfer_latency(maps, kind="raw", n_boot=20, random_state=0)
    assert lat.latency == transfer_latency(maps, map_type="raw", n_boot=20, random_state=0).latency
    with pytest.warns(FutureWarning, match=r"B2BCoupling\.peak\(kind=.*use map_type="):
        assert maps[0].peak(kind="raw") == maps[0].peak(map_type="raw")
    with pytest.warns(FutureWarning, match=r"B2BCoupling\.sel\(kind=.*use map_type="):
        assert maps[0].sel(kind="raw") == maps[0].sel(map_type="raw")
    with pytest.raises(TypeError, match="both kind= .deprecated. and map_type="):
        b2b_group_test(maps, kind="raw", map_type="raw")


def test_plot_aliases():
    with pytest.warns(FutureWarning, match=r"plot_b2b_map\(kinds=.*use map_types="):
        fig = plot_b2b_map(_maps(0), kinds=["raw", "direct"])
    assert [ax.get_title() for ax in fig.axes if ax.get_label() != "<colorbar>"] == [
        "raw",
        "direct",
    ]
    plt.close(fig)
    with pytest.warns(FutureWarning, match=r"plot_b2b_layers\(kind=.*use map_type="):
        fig = plot_b2b_layers(_maps(0, layers=True), kind="residual")
    plt.close(fig)


def test_maps_of_an_earlier_version_read_with_the_dim_renamed(tmp_path):
    """A dataset or a file whose map dim is still called ``kind`` is read as ``map_type``."""
    old = _maps(3, dim="kind")
    assert "kind" not in old.dataset.dims and list(old.dataset["map_type"].values) == TYPES
    # a file written by an earlier version (the dim named kind on disk)
    path = _maps(3).save(tmp_path / "m.nc")
    ds = xr.open_dataset(path, engine="h5netcdf").load()
    ds.close()
    ds.rename({"map_type": "kind"}).to_netcdf(tmp_path / "old.nc", engine="h5netcdf")
    back = read_b2b(tmp_path / "old.nc")
    np.testing.assert_array_equal(back.dataset["r"].values, _maps(3).dataset["r"].values)
    assert list(back.dataset["map_type"].values) == TYPES


def test_encoding_result_estimator_attr_and_earlier_kind():
    """``EncodingResult.attrs['estimator']`` (was ``kind``); earlier results read renamed."""
    from hyperalign.encoding import EncodingResult

    ds = xr.Dataset({"r": ("target", [0.1, 0.2])}, attrs={"kind": "trf", "role": "listener"})
    res = EncodingResult(ds)
    assert res.attrs["estimator"] == "trf" and "kind" not in res.attrs
    assert "kind" in ds.attrs  # the caller's dataset is not modified
    assert repr(res).startswith("<EncodingResult | trf | listener")
