"""Coupling.mean(dim, skipna=...): the NaN policy is explicit (default: NaN propagates)."""

from __future__ import annotations

import numpy as np
import pytest

from hyperalign.coupling import Coupling


@pytest.fixture
def con():
    rng = np.random.default_rng(0)
    values = rng.uniform(size=(1, 4, 2, 1, 3, 3))  # metric, epochs, freqs, lags, in, out
    values[0, 1, :, 0, 2, :] = np.nan  # channel 3 of S1 undefined in epoch 1
    return Coupling.from_array(
        values,
        metrics=["plv"],
        bands={"theta": (4.0, 8.0), "alpha": (8.0, 13.0)},
        lags=np.array([0.0]),
        node_in=["a_S1", "b_S1", "c_S1"],
        node_out=["a_S2", "b_S2", "c_S2"],
    ), values


def test_default_propagates_nan(con):
    c, values = con
    out = c.mean("epochs").get_data("plv")
    assert np.isnan(out[0, :, 0, 2, :]).all()
    np.testing.assert_allclose(out[0, :, 0, :2], values[0].mean(axis=0)[:, 0, :2])


def test_skipna_is_hypyp_epochs_average(con):
    c, values = con
    out = c.mean("epochs", skipna=True).get_data("plv")
    assert not np.isnan(out).any()
    np.testing.assert_allclose(out[0], np.nanmean(values[0], axis=0))


def test_skipna_all_nan_stays_nan_and_type_checked(con):
    c, values = con
    v = values.copy()
    v[0, :, 0, 0, 0, 0] = np.nan
    c2 = Coupling.from_array(
        v, metrics=["plv"], bands=c.bands, lags=c.lags, node_in=c.node_in, node_out=c.node_out
    )
    with np.errstate(invalid="ignore"):
        out = c2.mean("epochs", skipna=True).get_data("plv")
    assert np.isnan(out[0, 0, 0, 0, 0]) and np.isnan(out).sum() == 1
    with pytest.raises(TypeError, match="skipna must be True or False"):
        c.mean("epochs", skipna="yes")
    with pytest.raises(ValueError, match="mean\\(\\) dims"):
        c.mean("metric", skipna=True)
