"""Coupling figures return matplotlib Figures (Agg backend)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import mne
import numpy as np
import pytest

import hyperalign as ha
from hyperalign.coupling.dyad_sync import compute_dyad_sync
from hyperalign.coupling.plot import plot_coupling_matrix, plot_lag_profile

NAMES = ["Fz", "Cz", "Pz", "C3", "C4", "Oz"]


@pytest.fixture(scope="module")
def con(make_planted_dyad):
    d = make_planted_dyad(duration=30.0)
    return compute_dyad_sync(d, bands={"theta": (4.0, 8.0), "alpha": (8.0, 13.0)},
                             lags=(-0.2, 0.0, 0.2, 0.4))  # fmt: skip


def test_plot_coupling_matrix(con):
    fig = plot_coupling_matrix(con, "plv", "theta", lag=0.2)
    assert isinstance(fig, matplotlib.figure.Figure)
    ax = fig.axes[0]
    assert ax.get_ylabel() == "speaker channels" and ax.get_xlabel() == "listener channels"
    img = ax.get_images()[0].get_array()
    assert img.shape == (6, 6)
    assert img[:3, :3].mean() > img[3:, 3:].mean()
    fig2, ax2 = plt.subplots()
    assert plot_coupling_matrix(con, "ccorr", "alpha", epochs="long", ax=ax2) is fig2
    plt.close("all")
    with pytest.raises(ValueError, match="lag=0.3 s was not computed"):
        plot_coupling_matrix(con, "plv", "theta", lag=0.3)
    with pytest.raises(ValueError, match="band='gamma' was not computed"):
        plot_coupling_matrix(con, "plv", "gamma")


def test_plot_coupling_matrix_on_sensors():
    rng = np.random.default_rng(0)
    pos = {"Fz": (0, 0.06, 0.08), "Cz": (0, 0, 0.1), "Pz": (0, -0.06, 0.08),
           "C3": (-0.07, 0, 0.06), "C4": (0.07, 0, 0.06), "Oz": (0, -0.1, 0.02)}  # fmt: skip
    montage = mne.channels.make_dig_montage(ch_pos=pos, coord_frame="head")
    raws = [ha.make_participant_raw(rng.standard_normal((6, 2000)) * 1e-6, 100.0, NAMES,
                                    montage=montage) for _ in range(2)]  # fmt: skip
    eps = [mne.make_fixed_length_epochs(r, 4.0, preload=True, verbose=False) for r in raws]
    con = compute_dyad_sync(None, metrics=("plv",), bands={"alpha": (8.0, 13.0)},
                            epochs=tuple(eps), speaker_first=False)  # fmt: skip
    fig = plot_coupling_matrix(con, sensors=True, info=raws[0].info, top=5)
    assert len(fig.axes) >= 2
    assert len(fig.axes[1].lines) == 5
    plt.close("all")
    bare = ha.make_participant_raw(rng.standard_normal((6, 200)), 100.0, NAMES)
    with pytest.raises(ValueError, match="no sensor positions"):
        plot_coupling_matrix(con, sensors=True, info=bare.info)
    with pytest.raises(ValueError, match="needs info"):
        plot_coupling_matrix(con, sensors=True)


def test_plot_lag_profile(con):
    fig = plot_lag_profile(con, "plv", node_in=["ch0", "ch1", "ch2"],
                           node_out=["ch0", "ch1", "ch2"])  # fmt: skip
    ax = fig.axes[0]
    lines = ax.get_lines()
    assert [ln.get_label() for ln in lines] == ["theta", "alpha"]
    y = lines[0].get_ydata()
    assert list(lines[0].get_xdata()) == [-0.2, 0.0, 0.2, 0.4]
    assert y.argmax() == 2  # the planted 0.2-s lag
    assert "listener after speaker" in ax.get_xlabel()
    plt.close("all")
    with pytest.raises(ValueError, match="node_in \\['Fz'\\] not in"):
        plot_lag_profile(con, node_in=["Fz"])
    with pytest.raises(ValueError, match="ci must be between 0 and 1"):
        plot_lag_profile(con, ci=95)
