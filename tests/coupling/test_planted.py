"""Planted coupling is found in its band, channels and lag, and not elsewhere.

``make_planted_dyad`` (the ``make_planted_dyad`` fixture of this folder's conftest) builds a
small dyad: two participants with independent white noise, plus a shared theta (5-7 Hz) source in a
channel subset: during each utterance the speaker carries ``s(t)`` and the listener
``s(t - lag)`` ("listener after speaker").
"""

from __future__ import annotations

import importlib

import numpy as np
import pytest

from hyperalign.coupling.dyad_sync import compute_dyad_sync
from hyperalign.coupling.summary import summarize_utterances
from hyperalign.coupling.surrogates import (
    compute_surrogate_sync,
    make_pseudo_dyads,
    surrogate_zscore,
)

BANDS = {"theta": (4.0, 8.0), "beta": (15.0, 25.0)}


@pytest.fixture(scope="module")
def planted(make_planted_dyad):
    return make_planted_dyad()


def test_planted_coupling_found_in_band_channels_and_lag(planted):
    con = compute_dyad_sync(planted, metrics=("plv", "ccorr"), bands=BANDS, lags=(0.0, 0.2, 0.5))
    for metric in ("plv", "ccorr"):
        v = con.xarray.sel(metric=metric).mean("epochs")  # (freqs, lags, in, out)
        theta = v.sel(freqs="theta").values
        coupled = theta[:, :3, :3].mean(axis=(-1, -2))
        uncoupled = theta[:, 3:, 3:].mean(axis=(-1, -2))
        # strongest at the planted lag, in the planted channels
        assert np.argmax(coupled) == 1, (metric, coupled)
        assert coupled[1] > 2 * uncoupled[1], (metric, coupled, uncoupled)
        # cross blocks (coupled x uncoupled) and the other band stay at the noise level
        cross = theta[1, :3, 3:].mean()
        assert coupled[1] > 2 * cross
        beta = v.sel(freqs="beta").values[1]
        assert beta[:3, :3].mean() < 1.3 * beta[3:, 3:].mean()


def test_planted_surrogate_z_high_only_where_planted(planted):
    kw = dict(metrics=("plv",), bands=BANDS, lags=(0.2,))
    con = compute_dyad_sync(planted, **kw)
    null = compute_surrogate_sync(planted, "circular_shift", 19, random_state=1, **kw)
    ds = surrogate_zscore(con, null, level="dyad")
    z = ds["z"].sel(metric="plv", freqs="theta").values[0, 0]
    assert z[:3, :3].min() > 3.0
    assert abs(np.median(z[3:, 3:])) < 2.0
    table = summarize_utterances(con, rois={"front": ["ch0", "ch1", "ch2"], "back": ["ch3", "ch4",
                                 "ch5"]}, surrogate=null)  # fmt: skip
    med = table.query("band == 'theta'").groupby("roi")["sync_pct"].median()
    assert med["front-front"] > 90
    assert med["back-back"] < 80


def test_pseudo_dyads_show_no_coupling_beyond_null(make_planted_dyad):
    dyads = [make_planted_dyad(seed=s, dyad_id=f"d{s}", duration=60.0) for s in range(3)]
    pseudo = make_pseudo_dyads(dyads)
    assert len(pseudo) == 6
    kw = dict(metrics=("plv",), bands={"theta": (4.0, 8.0)}, lags=(0.2,))
    real = compute_dyad_sync(dyads[0], **kw)
    fake = compute_dyad_sync(pseudo[0], **kw)
    null = compute_surrogate_sync(pseudo[0], "circular_shift", 19, random_state=3, **kw)
    z_fake = surrogate_zscore(fake, null, level="dyad")["z"].values[0, 0, 0, 0]
    z_real = surrogate_zscore(
        real, compute_surrogate_sync(dyads[0], "circular_shift", 19, random_state=3, **kw),
        level="dyad",
    )["z"].values[0, 0, 0, 0]  # fmt: skip
    assert np.abs(np.median(z_fake[:3, :3])) < 2.5
    assert np.median(z_real[:3, :3]) > 3.0
    # the pseudo-dyad null and the pseudo-dyads themselves agree: real dyad beyond both
    pnull = compute_surrogate_sync(dyads[0], "pseudo_dyads", 2, others=dyads[1:], **kw)
    pv = pnull.xarray.values
    obs = real.xarray.values
    assert np.nanmean(obs[..., :3, :3]) > np.nanmean(pv[..., :3, :3]) + 0.1


def _simulation():
    sim = importlib.import_module("hyperalign.simulation")
    return sim


def _planted_effect(truth):
    eff = truth.effects
    row = eff[eff["effect"] == "semantic_coupling"].iloc[0]
    return tuple(row["band"]), list(row["channels"]), float(row["lag_s"])


@pytest.mark.parametrize("seed", [0, 1])
def test_simulated_conversation_theta_coupling(seed):
    """On simulate_conversation: sync in the planted band and channels beats the other channels
    and another band, and grows with the true semantic alignment of each utterance."""
    sim = _simulation()
    dyad, truth = sim.simulate_conversation(duration=120.0, sfreq=128.0, n_channels=8,
                                            random_state=seed)  # fmt: skip
    band, chans, lag = _planted_effect(truth)
    con = compute_dyad_sync(dyad, metrics=("plv", "ccorr"),
                            bands={"planted": band, "beta": (20.0, 30.0)}, lags=(lag,),
                            min_cycles=0)  # fmt: skip
    ci = [i for i, c in enumerate(con.node_in) if c in chans]
    oi = [i for i, c in enumerate(con.node_in) if c not in chans]
    assert ci and oi
    md = con.epochs_metadata
    tu = truth.utterances.set_index("utterance_id")
    sem = tu.loc[md["utterance_id"].to_numpy(), "semantic_alignment"].to_numpy(float)
    for metric in ("plv", "ccorr"):
        v = con.xarray.sel(metric=metric).values[:, :, 0]  # (epochs, freqs, in, out)
        planted = v[:, 0][:, ci][:, :, ci].mean(axis=(1, 2))
        other_ch = v[:, 0][:, oi][:, :, oi].mean(axis=(1, 2))
        other_band = v[:, 1][:, ci][:, :, ci].mean(axis=(1, 2))
        assert np.nanmean(planted) > 1.3 * np.nanmean(other_ch), metric
        assert np.nanmean(planted) > 2.0 * np.nanmean(other_band), metric
        ok = np.isfinite(sem) & np.isfinite(planted)
        r = np.corrcoef(sem[ok], planted[ok])[0, 1]
        assert r > 0.25, (metric, r)


def test_simulated_pseudo_dyads_no_coupling_beyond_null():
    """Real simulated dyads exceed their circular-shift null in the planted band and channels;
    pseudo-dyads (strangers paired across conversations) do not."""
    sim = _simulation()
    dyads, truths = [], []
    for seed in range(3):
        d, t = sim.simulate_conversation(duration=90.0, sfreq=128.0, n_channels=8,
                                         random_state=seed, dyad_id=f"sim-{seed}")  # fmt: skip
        dyads.append(d)
        truths.append(t)
    band, chans, lag = _planted_effect(truths[0])
    kw = dict(metrics=("plv",), bands={"planted": band}, lags=(0.15,), min_cycles=0)
    pseudo = make_pseudo_dyads(dyads, n=2, random_state=0)
    z_real, z_fake = [], []
    for d, out in ((dyads[0], z_real), (dyads[1], z_real), (pseudo[0], z_fake),
                   (pseudo[1], z_fake)):  # fmt: skip
        con = compute_dyad_sync(d, **kw)
        null = compute_surrogate_sync(d, "circular_shift", 19, random_state=1, **kw)
        z = surrogate_zscore(con, null, level="dyad")["z"].values[0, 0, 0, 0]
        ci = [i for i, c in enumerate(con.node_in) if c in chans]
        out.append(z[np.ix_(ci, ci)].mean())
    assert min(z_real) > 2.0, z_real
    assert max(np.abs(z_fake)) < 2.0, z_fake
