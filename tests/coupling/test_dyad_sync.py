"""compute_dyad_sync: windows, orientation, lags, equivalence with the engine, bad inputs."""

from __future__ import annotations

import mne
import numpy as np
import pandas as pd
import pytest

import hyperalign as ha
from hyperalign.coupling.dyad_sync import compute_dyad_sync, make_windows
from hyperalign.coupling.metrics import compute_sync_epochs, sync_from_analytic
from hyperalign.coupling.spectral import analytic_signal

THETA = {"theta": (4.0, 8.0)}


@pytest.fixture(scope="module")
def dyad(make_planted_dyad):
    return make_planted_dyad(duration=45.0)


def test_epochs_metadata_and_short_flag(dyad, caplog):
    con = compute_dyad_sync(dyad, bands=THETA, min_duration=3.5)
    md = con.epochs_metadata
    utt = dyad.transcript.utterances
    assert con.n_epochs == len(utt)
    for col in ("utterance_id", "speaker", "listener", "onset", "offset", "duration", "short"):
        assert col in md.columns
    np.testing.assert_array_equal(md["utterance_id"], utt["utterance_id"])
    assert (md["speaker"] != md["listener"]).all()
    np.testing.assert_allclose(md["duration"], utt["offset"] - utt["onset"])
    n_short = int((md["duration"] < 3.5).sum())
    assert 0 < n_short < len(md)
    np.testing.assert_array_equal(md["short"], md["duration"] < 3.5)
    assert f"{n_short} of {len(md)} epoch(s) are shorter than min_duration=3.5" in caplog.text
    assert con.attrs["n_short"] == n_short
    assert con.attrs["orientation"] == "speaker_first"
    assert con.xarray["n_cycles"].dims == ("epochs", "freqs")
    assert con.node_in == con.node_out == [f"ch{i}" for i in range(6)]


def test_matches_engine_kernels_on_the_continuous_analytic_signal(dyad):
    lags = (0.0, 0.1, -0.3)
    con = compute_dyad_sync(dyad, metrics=("plv", "ccorr", "coh", "wpli"), bands=THETA,
                            lags=lags, epochs="fixed", window=2.0,
                            speaker_first=False)  # fmt: skip
    sf = dyad.sfreq
    x = np.stack([p.raw.get_data() for p in dyad.participants])
    z = analytic_signal(x, sf, THETA)[:, :, 0]  # (2, C, T)
    n_t = z.shape[-1]
    for e in (0, 5, 21):
        s0, length = int(e * 2.0 * sf), int(2.0 * sf)
        for li, lag in enumerate(lags):
            k = int(round(lag * sf))
            if s0 + k < 0 or s0 + k + length > n_t:
                assert np.isnan(con.xarray.values[:, e, 0, li]).all()
                continue
            a = z[0][:, s0 : s0 + length]
            b = z[1][:, s0 + k : s0 + k + length]
            for mi, m in enumerate(con.metrics):
                ref = sync_from_analytic(a, b, m)
                np.testing.assert_allclose(con.xarray.values[mi, e, 0, li], ref, rtol=1e-10)
    # the first window at a negative lag has its listener window before t = 0
    assert np.isnan(con.xarray.values[0, 0, 0, 2]).all()
    assert con.attrs["n_lag_out"] >= 1


def test_speaker_first_orientation(dyad):
    kw = dict(metrics=("plv",), bands=THETA)
    fwd = compute_dyad_sync(dyad, lags=(0.0, 0.2), **kw)
    raw = compute_dyad_sync(dyad, lags=(0.0, 0.2, -0.2), speaker_first=False, **kw)
    f, r = fwd.xarray.values[0, :, 0], raw.xarray.values[0, :, 0]
    b_speaks = (fwd.epochs_metadata["speaker"] == dyad.ids[1]).to_numpy()
    assert b_speaks.any() and (~b_speaks).any()
    np.testing.assert_allclose(f[~b_speaks, :2], r[~b_speaks, :2])
    np.testing.assert_allclose(f[b_speaks, 0], np.swapaxes(r[b_speaks, 0], -1, -2))
    # listener after speaker at +0.2 s when B speaks: B's window at t, A's at t + 0.2 s
    sf = dyad.sfreq
    x = np.stack([p.raw.get_data() for p in dyad.participants])
    z = analytic_signal(x, sf, THETA)[:, :, 0]
    md = fwd.epochs_metadata
    for e in np.nonzero(b_speaks)[0][:3]:
        s0 = int(round(md["onset"].iloc[e] * sf))
        n = int(round(md["offset"].iloc[e] * sf)) - s0
        ref = sync_from_analytic(z[1][:, s0 : s0 + n], z[0][:, s0 + 20 : s0 + 20 + n], "plv")
        np.testing.assert_allclose(f[e, 1], ref, rtol=1e-10)
    assert raw.node_in[0] == "ch0_S1" and raw.node_out[0] == "ch0_S2"


def test_turns_and_fixed_windows(dyad):
    turns = compute_dyad_sync(dyad, metrics=("plv",), bands=THETA, epochs="turns")
    assert turns.n_epochs == dyad.transcript.utterances["turn"].nunique()
    win = make_windows(dyad, "fixed", window=5.0)
    assert len(win) == int(dyad.duration // 5.0)
    assert (win["utterance_id"] == -1).all()
    assert set(win["speaker"]) <= {*dyad.ids, ""}
    fixed = compute_dyad_sync(dyad, metrics=("plv",), bands=THETA, epochs="fixed", window=5.0)
    assert fixed.n_epochs == len(win)
    np.testing.assert_allclose(fixed.epochs_metadata["onset"], np.arange(len(win)) * 5.0)


def test_rois_average_channel_blocks(dyad):
    rois = {"front": ["ch0", "ch1", "ch2"], "back": ["ch3", "ch4", "ch5"]}
    full = compute_dyad_sync(dyad, metrics=("plv",), bands=THETA)
    roi = compute_dyad_sync(dyad, metrics=("plv",), bands=THETA, rois=rois)
    assert roi.node_in == ["front", "back"] == roi.node_out
    v = full.xarray.values
    np.testing.assert_allclose(roi.xarray.values[..., 0, 1], v[..., :3, 3:].mean((-1, -2)))
    with pytest.raises(ValueError, match="ROI 'x': channel"):
        compute_dyad_sync(dyad, metrics=("plv",), bands=THETA, rois={"x": ["Cz"]})


def test_mne_epochs_input_matches_engine(dyad):
    eps = [
        mne.make_fixed_length_epochs(p.raw, duration=3.0, preload=True, verbose=False)
        for p in dyad.participants
    ]
    con = compute_dyad_sync(dyad, metrics=("plv",), bands=THETA, epochs=tuple(eps),
                            speaker_first=False, lags=(0.0, 0.1))  # fmt: skip
    ref = compute_sync_epochs(eps[0], eps[1], THETA, ("plv",), lags=(0.0, 0.1))
    np.testing.assert_allclose(con.xarray.values, ref.xarray.values)
    assert not con.epochs_metadata["short"].any()  # 3-s epochs, min_duration 2 s
    np.testing.assert_allclose(con.epochs_metadata["duration"], 3.0)
    # with a speaker column the epochs are oriented speaker -> listener
    md = pd.DataFrame({"speaker": [dyad.ids[k % 2] for k in range(len(eps[0]))]})
    for e in eps:
        e.metadata = md
    ori = compute_dyad_sync(dyad, metrics=("plv",), bands=THETA, epochs=tuple(eps),
                            lags=(0.1,))  # fmt: skip
    both = compute_sync_epochs(eps[0], eps[1], THETA, ("plv",), lags=(0.1, -0.1))
    v, b = ori.xarray.values[0, :, 0, 0], both.xarray.values[0, :, 0]
    np.testing.assert_allclose(v[0::2], b[0::2, 0])
    np.testing.assert_allclose(v[1::2], np.swapaxes(b[1::2, 1], -1, -2))
    assert ori.attrs["orientation"] == "speaker_first"
    with pytest.raises(ValueError, match="lags must be shorter than the epoch"):
        compute_dyad_sync(dyad, metrics=("plv",), bands=THETA, epochs=tuple(eps), lags=(3.0,))


# ---------------------------------------------------------------------------- bad inputs
def test_mismatched_channel_counts(make_planted_dyad):
    d = make_planted_dyad(duration=20.0)
    raw_b = d[1].raw.copy().pick(["ch0", "ch1", "ch2"])
    bad = ha.Dyad([d[0], ha.Participant("B", raw_b)], d.transcript, dyad_id="bad")
    with pytest.raises(
        ValueError, match=r"mismatched channel counts after picks \('A': 6, 'B': 3\)"
    ):
        compute_dyad_sync(bad, bands=THETA)
    renamed = d[1].raw.copy().rename_channels({f"ch{i}": f"x{i}" for i in range(6)})
    bad2 = ha.Dyad([d[0], ha.Participant("B", renamed)], d.transcript, dyad_id="bad2")
    with pytest.raises(ValueError, match="same channel names"):
        compute_dyad_sync(bad2, bands=THETA)
    con = compute_dyad_sync(bad2, bands=THETA, speaker_first=False)
    assert con.node_out[0] == "x0_S2"


def test_nan_in_recording_is_named(make_planted_dyad):
    d = make_planted_dyad(duration=20.0)
    data = d[1].raw.get_data()
    data[4, 300:310] = np.nan
    d[1].raw._data[:] = data
    with pytest.raises(
        ValueError, match=r"participant 'B': 10 NaN/inf sample\(s\) in channel\(s\) \['ch4'\]"
    ):
        compute_dyad_sync(d, bands=THETA)


def test_epochs_too_short_for_band_cycles(dyad):
    with pytest.raises(ValueError, match="band 'slow' .* every epoch is too short"):
        compute_dyad_sync(dyad, bands={"slow": (0.1, 0.5)}, min_cycles=1.0)


def test_lags_longer_than_the_epochs(dyad):
    with pytest.raises(ValueError, match="longer than every epoch"):
        compute_dyad_sync(dyad, bands=THETA, lags=(0.0, 8.0))
    with pytest.raises(ValueError, match="lags must be unique"):
        compute_dyad_sync(dyad, bands=THETA, lags=(0.1, 0.1))


def test_other_bad_arguments(dyad):
    with pytest.raises(ValueError, match="epochs must be one of"):
        compute_dyad_sync(dyad, epochs="sentences")
    with pytest.raises(ValueError, match="unknown metric 'plvv'"):
        compute_dyad_sync(dyad, metrics=("plvv",))
    with pytest.raises(ValueError, match="longer than the recording"):
        compute_dyad_sync(dyad, bands=THETA, epochs="fixed", window=1000.0)
    nod = ha.Dyad([dyad[0].copy(), dyad[1].copy()], None, dyad_id="no-transcript")
    with pytest.raises(ValueError, match="needs a transcript"):
        compute_dyad_sync(nod, bands=THETA)
    with pytest.raises(TypeError, match="dyad must be a Dyad"):
        compute_dyad_sync("dyad", bands=THETA)


def test_torch_backend_matches_numpy(dyad):
    pytest.importorskip("torch")
    kw = dict(metrics=("plv", "ccorr"), bands=THETA, lags=(0.0, 0.2))
    a = compute_dyad_sync(dyad, **kw)
    b = compute_dyad_sync(dyad, backend="torch", **kw)
    np.testing.assert_allclose(b.xarray.values, a.xarray.values, rtol=1e-9, atol=1e-12)


def test_picks_float32_and_round_trip(dyad, tmp_path):
    from hyperalign.coupling.results import read_coupling

    con = compute_dyad_sync(dyad, metrics=("plv",), bands=THETA, picks=["ch0", "ch4"])
    assert con.node_in == ["ch0", "ch4"]
    full = compute_dyad_sync(dyad, metrics=("plv",), bands=THETA)
    np.testing.assert_allclose(con.xarray.values, full.xarray.values[..., [0, 4], :][..., [0, 4]])
    f32 = compute_dyad_sync(dyad, metrics=("plv",), bands=THETA, dtype="float32")
    np.testing.assert_allclose(f32.xarray.values, full.xarray.values, atol=1e-4)
    back = read_coupling(full.save(tmp_path / "sync.nc"))
    np.testing.assert_array_equal(back.xarray.values, full.xarray.values)
    assert list(back.epochs_metadata["speaker"]) == list(full.epochs_metadata["speaker"])


def test_utterances_of_every_length_match_one_by_one():
    """Utterance windows of different lengths are batched with zero padding; every value must
    equal the window computed alone on the continuous analytic signal."""
    from hyperalign.coupling.dyad_sync import _length_buckets
    from hyperalign.simulation import simulate_conversation

    dyad, _ = simulate_conversation(duration=60, n_channels=4, random_state=1)
    metrics = ("plv", "ccorr", "accorr", "coh", "imcoh", "pli", "wpli", "envelope_corr")
    lags = (0.0, 0.15, -0.1)
    con = compute_dyad_sync(dyad, metrics=metrics, bands=THETA, lags=lags, filter_method="fft",
                            speaker_first=False, min_cycles=0, verbose="error")  # fmt: skip
    sf = dyad.sfreq
    x = np.stack([p.raw.get_data() for p in dyad.participants])
    z = analytic_signal(x, sf, THETA, filter_method="fft")[:, :, 0]
    n_t = z.shape[-1]
    starts = np.rint(con.xarray.coords["onset"].values * sf).astype(int)
    stops = np.minimum(np.rint(con.xarray.coords["offset"].values * sf).astype(int), n_t)
    lengths = stops - starts
    assert len(np.unique(lengths)) > 10 and len(_length_buckets(lengths)) < len(np.unique(lengths))
    checked = 0
    for e in range(len(starts)):
        for li, lag in enumerate(lags):
            k = int(round(lag * sf))
            if starts[e] + k < 0 or stops[e] + k > n_t:
                continue
            a = z[0][:, starts[e] : stops[e]]
            b = z[1][:, starts[e] + k : stops[e] + k]
            for mi, m in enumerate(con.metrics):
                ref = sync_from_analytic(a, b, m)
                np.testing.assert_allclose(
                    con.xarray.values[mi, e, 0, li], ref, rtol=1e-9, atol=1e-12
                )
            checked += 1
    assert checked > 30


def test_dyad_sync_deprecated_filter_alias(dyad):
    """``filter=`` still works for one release (FutureWarning), in compute_dyad_sync and in
    the sync_kwargs of compute_surrogate_sync."""
    from hyperalign.coupling import compute_surrogate_sync

    kw = dict(metrics=("plv",), bands=THETA)
    new = compute_dyad_sync(dyad, filter_method="fft", **kw)
    with pytest.warns(FutureWarning, match=r"compute_dyad_sync\(filter=.*use filter_method="):
        old = compute_dyad_sync(dyad, filter="fft", **kw)
    np.testing.assert_array_equal(old.get_data(), new.get_data())
    with pytest.warns(FutureWarning, match=r"compute_surrogate_sync\(filter="):
        compute_surrogate_sync(dyad, n_surrogates=1, random_state=0, filter="fft", **kw)


def test_positional_after_epochs_is_deprecated():
    """``window`` and later parameters are keyword-only; positional calls warn for one release."""
    import warnings

    from hyperalign.coupling import compute_dyad_sync
    from hyperalign.simulation import simulate_conversation

    d, _ = simulate_conversation(duration=30, n_channels=4, random_state=0)
    bands = {"theta": (4.0, 8.0)}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ref = compute_dyad_sync(d, ["plv"], bands, "fixed", window=2.0)
    with pytest.warns(DeprecationWarning, match=r"passing \['window'\] positionally"):
        old = compute_dyad_sync(d, ["plv"], bands, "fixed", 2.0)
    np.testing.assert_array_equal(old.get_data(), ref.get_data())
