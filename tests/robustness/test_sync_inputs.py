"""Bad channels and flat channels in the synchrony entry points (issue 10, items 5 and 6).

Bad channels follow MNE: left out unless named in ``picks``, counted, and a participant left
without channels is an error. A flat (zero-variance) channel gives NaN for every metric and
every pair involving it, counted, with no numpy warning.
"""

from __future__ import annotations

import warnings

import mne
import numpy as np
import pytest

import hyperalign as ha
from hyperalign.coupling import (
    METRICS,
    compute_dyad_sync,
    compute_sync,
    lagged_correlation,
    sync_across_epochs,
    sync_from_analytic,
)
from hyperalign.coupling.across_epochs import epoch_spectra
from hyperalign.coupling.metrics import compute_sync_epochs

ALL = list(METRICS)
BAND = {"alpha": (8.0, 12.0)}


@pytest.fixture(scope="module")
def dyad():
    dy, _ = ha.simulate_conversation(duration=30, n_channels=4, random_state=0)
    return dy


def _no_runtime_warnings():
    ctx = warnings.catch_warnings()
    ctx.__enter__()
    warnings.simplefilter("error", RuntimeWarning)
    return ctx


# --------------------------------------------------------------- item 5: bad channels
def test_bads_left_out_by_default_and_counted(dyad):
    d = dyad.copy()
    d[0].raw.info["bads"] = ["T7"]
    c = compute_dyad_sync(d, metrics="plv", bands=BAND)
    assert list(c.node_in) == ["Fz", "Cz", "T8"] and list(c.node_out) == ["Fz", "Cz", "T8"]
    ids = [str(i) for i in d.ids]
    assert c.attrs["excluded_channels"] == {ids[0]: ["T7"], ids[1]: ["T7"]}
    assert c.attrs["n_excluded_channels"] == 2
    log = d.exclusions.to_data_frame()
    rows = log[log["stage"] == "compute_dyad_sync"]
    assert set(rows["reason"]) == {
        "marked bad (info['bads'])",
        "bad in the other participant (left out of both: pairs stay matched)",
    }
    assert rows["n"].sum() == 2
    # a second call does not count the same exclusion twice
    compute_dyad_sync(d, metrics="plv", bands=BAND)
    assert d.exclusions.to_data_frame()["stage"].eq("compute_dyad_sync").sum() == 2


def test_bads_equal_explicit_exclusion(dyad):
    d = dyad.copy()
    d[1].raw.info["bads"] = ["Cz"]
    c = compute_dyad_sync(d, metrics="plv", bands=BAND)
    ref = compute_dyad_sync(dyad, metrics="plv", bands=BAND, picks=["Fz", "T7", "T8"])
    np.testing.assert_allclose(c.get_data(), ref.get_data())


def test_bads_named_in_picks_are_kept(dyad):
    d = dyad.copy()
    d[0].raw.info["bads"] = ["T7"]
    c = compute_dyad_sync(d, metrics="plv", bands=BAND, picks=["Fz", "T7"])
    assert list(c.node_in) == ["Fz", "T7"] and c.attrs["n_excluded_channels"] == 0


def test_bads_left_out_with_type_picks(dyad):
    d = dyad.copy()
    d[0].raw.info["bads"] = ["Fz"]
    c = compute_dyad_sync(d, metrics="plv", bands=BAND, picks="eeg")
    assert "Fz" not in list(c.node_in)


def test_all_channels_bad_is_an_error(dyad):
    d = dyad.copy()
    d[1].raw.info["bads"] = list(d[1].raw.ch_names)
    with pytest.raises(ValueError, match=r"participant '.*P2' has no channel left: all 4 "
                       r"picked channel\(s\) are marked bad.*interpolate_bads"):  # fmt: skip
        compute_dyad_sync(d, metrics="plv", bands=BAND)


def test_bads_of_both_cover_every_channel(dyad):
    d = dyad.copy()
    d[0].raw.info["bads"] = ["Fz", "T7"]
    d[1].raw.info["bads"] = ["Cz", "T8"]
    with pytest.raises(ValueError, match=r"has no channel left: its own bad channels.*"
                       r"left out of both"):  # fmt: skip
        compute_dyad_sync(d, metrics="plv", bands=BAND)


def test_nan_channel_marked_bad_is_left_out(dyad):
    d = dyad.copy()
    d[0].raw._data[1, 100:200] = np.nan
    with pytest.raises(ValueError, match=r"mark them bad \(raw.info\['bads'\]"):
        compute_dyad_sync(d, metrics="plv", bands=BAND)
    d[0].raw.info["bads"] = ["T7"]
    c = compute_dyad_sync(d, metrics="plv", bands=BAND)
    assert np.isfinite(c.get_data()).all()


def _epochs(n_ch=3, bads=(), seed=0):
    rng = np.random.default_rng(seed)
    info = mne.create_info([f"E{i}" for i in range(n_ch)], 128.0, "eeg")
    info["bads"] = list(bads)
    return mne.EpochsArray(rng.standard_normal((4, n_ch, 256)), info, verbose=False)


def test_compute_sync_epochs_leaves_bads_out():
    c = compute_sync_epochs(_epochs(bads=["E1"]), _epochs(seed=1), BAND, "plv")
    assert list(c.node_in) == ["E0_S1", "E2_S1"]
    assert c.attrs["excluded_channels"] == {"S1": ["E1"], "S2": ["E1"]}


def test_compute_sync_epochs_all_bad():
    with pytest.raises(ValueError, match=r"participant 'S2' has no channel left"):
        compute_sync_epochs(_epochs(), _epochs(bads=["E0", "E1", "E2"]), BAND, "plv")


def test_dyad_sync_on_epochs_leaves_bads_out():
    c = compute_dyad_sync(None, metrics="plv", bands=BAND,
                          epochs=(_epochs(bads=["E2"]), _epochs(seed=1)))  # fmt: skip
    assert c.xarray.sizes["node_in"] == 2 and c.attrs["n_excluded_channels"] == 2


# --------------------------------------------------------------- item 6: flat channels
@pytest.fixture(scope="module")
def flat_sync():
    rng = np.random.default_rng(0)
    d = rng.standard_normal((2, 3, 4, 512))
    d[0, 1, 2] = 0.0  # S1 channel 3 flat (all zero) in epoch 1
    d[1, :, 0] = 3.0  # S2 channel 1 constant in every epoch
    ctx = _no_runtime_warnings()
    try:
        c = compute_sync(d, 256.0, BAND, ALL, lags=(0.0, 0.05))
    finally:
        ctx.__exit__(None, None, None)
    return c


@pytest.mark.parametrize("metric", ALL)
def test_flat_channel_nan_for_every_metric(flat_sync, metric):
    v = flat_sync.get_data()[flat_sync.metrics.index(metric)]  # (E, B, L, in, out)
    assert np.isnan(v[1, :, :, 2, :]).all()  # S1 flat in epoch 1: its row
    assert np.isnan(v[:, :, :, :, 0]).all()  # S2 flat in every epoch: its column
    assert np.isfinite(v[0, :, :, :, 1:]).all() and np.isfinite(v[2, :, :, :, 1:]).all()
    assert np.isnan(v).sum() == 30


def test_flat_channels_reported(flat_sync):
    assert flat_sync.attrs["n_flat"] == 4
    assert flat_sync.attrs["flat_channels"] == {"S1": {"ch3_S1": 1}, "S2": {"ch1_S2": 3}}


def test_flat_mode_all():
    rng = np.random.default_rng(1)
    d = rng.standard_normal((2, 2, 3, 256))
    d[1, 0, 1] = 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        v = compute_sync(d, 128.0, BAND, ["wpli", "pli"], mode="all").get_data()
    assert np.isnan(v[:, 0, :, :, 4, :]).all() and np.isnan(v[:, 0, :, :, :, 4]).all()
    assert np.isfinite(v[:, 1]).all()


@pytest.mark.parametrize("metric", ALL)
def test_flat_analytic_nan(metric):
    rng = np.random.default_rng(2)
    z1 = rng.standard_normal((2, 3, 64)) + 1j * rng.standard_normal((2, 3, 64))
    z2 = z1[:, ::-1].copy()
    z2[0, 1] = 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        v = sync_from_analytic(z1, z2, metric)
    assert np.isnan(v[0, :, 1]).all() and np.isfinite(v[1]).all()
    assert np.isfinite(np.delete(v[0], 1, axis=1)).all()


@pytest.mark.parametrize("metric", ["plv", "coh", "wpli", "pli"])
def test_flat_across_epochs(metric):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((6, 2, 128))
    y = rng.standard_normal((6, 2, 128))
    y[:, 0] = 0.0
    c1, _ = epoch_spectra(x, 128.0, fmin=8, fmax=12)
    c2, _ = epoch_spectra(y, 128.0, fmin=8, fmax=12)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        v = sync_across_epochs(c1, c2, metric).get_data()  # (..., node_in, node_out)
    assert np.isnan(v[..., 0]).all() and np.isfinite(v[..., 1]).all()


def test_flat_dyad_sync_every_metric(dyad):
    d = dyad.copy()
    d[1].raw._data[2] = 0.0  # Cz of participant 2 disconnected
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        c = compute_dyad_sync(d, metrics=ALL, bands=BAND, lags=(0.0, 0.1))
    v = c.get_data()
    n_ep = v.shape[1]
    pid = str(d.ids[1])
    assert c.attrs["flat_channels"] == {pid: {"Cz": n_ep}} and c.attrs["n_flat"] == n_ep
    log = d.exclusions.to_data_frame()
    row = log[log["kind"] == "channel-epoch"].iloc[0]
    assert row["item"] == f"{pid}: Cz" and row["n"] == n_ep and "flat" in row["reason"]
    for m in range(len(ALL)):
        # Cz of participant 2 is node_in when it speaks and node_out when it listens
        for e in range(n_ep):
            speaker_is_p2 = c.xarray["speaker"].values[e] == d.ids[1]
            sl = v[m, e, :, :, 2, :] if speaker_is_p2 else v[m, e, :, :, :, 2]
            assert np.isnan(sl).all()
        assert np.isfinite(v[m][:, :, :, :2, :2]).all()


def test_flat_window_only(dyad):
    d = dyad.copy()
    w = d.transcript.utterances.iloc[3]
    sf = d.sfreq
    a, b = int(np.floor(w.onset * sf)) - 5, int(np.ceil(w.offset * sf)) + 5
    d[0].raw._data[0, a:b] = 0.0  # Fz of participant 1 flat during utterance 3 only
    c = compute_dyad_sync(d, metrics=["plv", "wpli"], bands=BAND)
    v = c.get_data()
    assert c.attrs["n_flat"] == 1
    assert np.isnan(v[:, 3]).any() and np.isfinite(np.delete(v, 3, axis=1)).all()


def test_lagged_correlation_flat_is_nan_without_warning():
    rng = np.random.default_rng(4)
    x1 = rng.standard_normal((2, 400))
    x2 = rng.standard_normal((2, 400))
    x2[1] = 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        r = lagged_correlation(x1, x2, 100.0, window=1.0)
    v = r.get_data()  # (..., node_in, node_out)
    assert np.isnan(v[..., 1]).all() and np.isfinite(v[..., 0]).all()
    assert r.attrs["n_flat"] == 4  # 4 windows x 1 lag x 1 constant channel


# --------------------------------------------------------------- n_jobs (issue 11)
def test_dyad_sync_n_jobs_equals_serial(dyad):
    serial = compute_dyad_sync(dyad, metrics=["plv", "wpli"], bands=BAND, lags=(0.0, 0.1))
    for n_jobs in (2, -1):
        par = compute_dyad_sync(dyad, metrics=["plv", "wpli"], bands=BAND, lags=(0.0, 0.1),
                                n_jobs=n_jobs)  # fmt: skip
        np.testing.assert_array_equal(par.get_data(), serial.get_data())


@pytest.mark.parametrize("bad", [1.5, "2", True])
def test_dyad_sync_n_jobs_type(dyad, bad):
    with pytest.raises(TypeError, match=r"n_jobs must be an int"):
        compute_dyad_sync(dyad, metrics="plv", bands=BAND, n_jobs=bad)


def test_dyad_sync_n_jobs_zero(dyad):
    with pytest.raises(ValueError, match=r"n_jobs must be a nonzero int.*got 0"):
        compute_dyad_sync(dyad, metrics="plv", bands=BAND, n_jobs=0)


def test_surrogates_accept_n_jobs(dyad):
    from hyperalign.coupling import compute_surrogate_sync

    a = compute_surrogate_sync(dyad, n_surrogates=2, random_state=0, metrics="plv", bands=BAND)
    b = compute_surrogate_sync(dyad, n_surrogates=2, random_state=0, metrics="plv", bands=BAND,
                               n_jobs=2)  # fmt: skip
    np.testing.assert_array_equal(a.get_data(), b.get_data())


# --------------------------------------------------------------- other bad inputs
@pytest.mark.parametrize("bad", [1.5, "10", True])
def test_n_surrogates_integers_only(dyad, bad):
    from hyperalign.coupling import compute_surrogate_sync, make_surrogates

    with pytest.raises(TypeError, match=r"n_surrogates must be an int.*n_surrogates=100"):
        compute_surrogate_sync(dyad, n_surrogates=bad, metrics="plv", bands=BAND)
    with pytest.raises(TypeError, match=r"n_surrogates must be an int"):
        make_surrogates(np.zeros((2, 64)), n_surrogates=bad)


def test_n_surrogates_zero(dyad):
    from hyperalign.coupling import compute_surrogate_sync

    with pytest.raises(ValueError, match=r"n_surrogates must be an integer >= 1; got 0"):
        compute_surrogate_sync(dyad, n_surrogates=0, metrics="plv", bands=BAND)


def test_metric_typo_suggests():
    with pytest.raises(ValueError, match=r"unknown metric 'wpil' \(did you mean 'wpli'\?\)"):
        compute_sync(np.zeros((2, 1, 2, 256)), 128.0, BAND, "wpil")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"bands": {"a": (12, 8)}}, r"band 'a' must satisfy 0 < fmin < fmax < sfreq/2 .*got"),
        ({"bands": {"a": (8, 200)}}, r"fmax < sfreq/2 = 128 Hz; got \(8, 200\)"),
        ({"picks": ["Fzz"]}, r"no channel matching picks=\['Fzz'\] \(it has \['Fz'"),
        ({"epochs": "utterance"}, r"epochs must be one of \['utterances', 'turns', 'fixed'\]"),
        ({"rois": {"f": ["Xx"]}}, r"ROI 'f': channel\(s\) \['Xx'\] are not among"),
        ({"lags": [100.0]}, r"lags up to 100 s are longer than every epoch"),
        ({"lags": [np.nan]}, r"lags must be a non-empty list of finite seconds"),
        ({"epochs": "fixed", "window": -1}, r"window must be a positive number of seconds"),
    ],
)
def test_dyad_sync_bad_arguments(dyad, kwargs, match):
    kw = {"metrics": "plv", "bands": BAND, **kwargs}
    with pytest.raises(ValueError, match=match):
        compute_dyad_sync(dyad, **kw)


def test_dyad_sync_not_a_dyad():
    with pytest.raises(TypeError, match=r"dyad must be a Dyad; got 'd01' \(str\)"):
        compute_dyad_sync("d01", metrics="plv", bands=BAND)


def test_sync_from_analytic_needs_complex():
    with pytest.raises(TypeError, match=r"must be complex analytic signals"):
        sync_from_analytic(np.zeros((2, 3, 8)), np.zeros((2, 3, 8)), "plv")


def test_compute_sync_nonfinite_data_named():
    d = np.random.default_rng(0).standard_normal((2, 2, 3, 256))
    d[1, 1, 2, 5] = np.inf
    with pytest.raises(ValueError, match=r"NaN or infinite values: participant S2, epoch 1, "
                       r"channel 2"):  # fmt: skip
        compute_sync(d, 128.0, BAND)
