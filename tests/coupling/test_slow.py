"""Slow-signal synchrony: lagged ISC / ISFC and wavelet transform coherence (fNIRS / fMRI)."""

from __future__ import annotations

import numpy as np
import pytest

from hyperalign.coupling.slow import lagged_correlation, wavelet_coherence


@pytest.fixture
def slow_pair():
    rng = np.random.default_rng(0)
    sf, n = 2.0, 600
    src = np.convolve(rng.standard_normal(n + 40), np.hanning(9), "same")[20:-20]
    x1 = rng.standard_normal((3, n)) * 0.3
    x2 = rng.standard_normal((3, n)) * 0.3
    x1[0] += src
    x2[0] += np.roll(src, 4)  # participant 2 follows by 4 samples = 2 s
    return x1, x2, sf


def test_lagged_correlation_finds_the_lag(slow_pair):
    x1, x2, sf = slow_pair
    lags = (-2.0, 0.0, 2.0, 4.0)
    con = lagged_correlation(x1, x2, sf, lags)
    assert con.xarray.dims == ("metric", "epochs", "freqs", "lags", "node_in", "node_out")
    assert con.metrics == ["isfc"] and con.n_epochs == 1
    r = con.get_data("isfc")[:, 0]  # (windows, lags, node_in, node_out)
    r00 = r[0, :, 0, 0]
    assert np.argmax(r00) == 2 and r00[2] > 0.8
    # equals np.corrcoef on the overlapping samples
    k = 4
    ref = np.corrcoef(x1[0, :-k], x2[0, k:])[0, 1]
    assert r[0, 2, 0, 0] == pytest.approx(ref, abs=1e-12)
    ref_neg = np.corrcoef(x1[1, k:], x2[2, :-k])[0, 1]
    assert r[0, 0, 1, 2] == pytest.approx(ref_neg, abs=1e-12)
    assert np.abs(r[0, 2, 1:, 1:]).max() < 0.2
    isc = lagged_correlation(x1, x2, sf, lags, metric="isc")
    assert isc.node_out == ["matched"] and isc.metrics == ["isc"]
    np.testing.assert_allclose(
        isc.get_data()[0, 0, 0, :, :, 0], np.diagonal(r[0], axis1=-2, axis2=-1)
    )


def test_lagged_correlation_windows(slow_pair, caplog):
    x1, x2, sf = slow_pair
    con = lagged_correlation(x1, x2, sf, (0.0, 2.0), window=60.0, step=30.0)
    assert con.n_epochs == (600 - 120) // 60 + 1
    np.testing.assert_allclose(con.epochs_metadata["onset"], np.arange(con.n_epochs) * 30.0)
    np.testing.assert_allclose(con.epochs_metadata["duration"], 60.0)
    r = con.get_data("isfc")[:, 0]  # (windows, lags, node_in, node_out)
    w = 120
    ref = np.corrcoef(x1[0, 60 : 60 + w], x2[0, 64 : 64 + w])[0, 1]
    assert r[1, 1, 0, 0] == pytest.approx(ref, abs=1e-12)
    # the last window's lagged partner runs past the end: NaN, counted in a warning
    assert np.isnan(r[-1, 1]).all() and np.isfinite(r[-1, 0]).all()
    assert con.attrs["n_lag_out"] == 1
    assert "outside the recording" in caplog.text


def test_lagged_correlation_errors(slow_pair):
    x1, x2, sf = slow_pair
    with pytest.raises(ValueError, match="metric='isc' correlates matched channels"):
        lagged_correlation(x1, x2[:2], sf, metric="isc")
    with pytest.raises(ValueError, match="same number of samples"):
        lagged_correlation(x1, x2[:, :-1], sf)
    bad = x1.copy()
    bad[2, 7] = np.nan
    with pytest.raises(ValueError, match=r"x1 contains 1 NaN.*channel 2, sample 7"):
        lagged_correlation(bad, x2, sf)
    with pytest.raises(ValueError, match="not shorter than the window"):
        lagged_correlation(x1, x2, sf, (0.0, 30.0), window=30.0)
    with pytest.raises(ValueError, match="longer than the recording"):
        lagged_correlation(x1, x2, sf, window=1000.0)


def test_lagged_correlation_coupling_labels(slow_pair):
    x1, x2, sf = slow_pair
    names = ["Fz", "Cz", "Pz"]
    con = lagged_correlation(x1, x2, sf, (0.0, 2.0), window=60.0, ch_names=names)
    assert con.node_in == ["Fz_S1", "Cz_S1", "Pz_S1"] and con.node_out[0] == "Fz_S2"
    assert con.bands == {"broadband": (0.0, sf / 2)}
    np.testing.assert_array_equal(con.lags, [0.0, 2.0])
    md = con.epochs_metadata
    np.testing.assert_allclose(md["offset"] - md["onset"], 60.0)
    df = con.to_data_frame()
    assert len(df) == con.n_epochs * 2 * 3 * 3 and set(df["metric"]) == {"isfc"}
    isc = lagged_correlation(x1, x2, sf, metric="isc", ch_names=[names, ["a", "b", "c"]])
    assert isc.node_in == names and list(isc.xarray["partner"].values) == ["a", "b", "c"]
    assert isc.attrs["mode"] == "matched"


def test_lagged_correlation_deprecated_kind_and_xarray(slow_pair):
    x1, x2, sf = slow_pair
    con = lagged_correlation(x1, x2, sf, (0.0, 2.0), window=60.0, metric="isc")
    with pytest.warns(FutureWarning, match="kind=.*deprecated.*use metric="):
        old = lagged_correlation(x1, x2, sf, (0.0, 2.0), window=60.0, kind="isc")
    np.testing.assert_array_equal(old.get_data(), con.get_data())
    with pytest.warns(FutureWarning, match="return_type='xarray'.*deprecated"):
        da = lagged_correlation(x1, x2, sf, (0.0, 2.0), window=60.0, metric="isc",
                                return_type="xarray")  # fmt: skip
    assert da.dims == ("windows", "lags", "channels") and da.name == "isc"
    np.testing.assert_array_equal(da.values, con.get_data()[0, :, 0, :, :, 0])
    np.testing.assert_allclose(da["onset"].values, con.epochs_metadata["onset"])
    with pytest.raises(ValueError, match="return_type"):
        lagged_correlation(x1, x2, sf, return_type="array")


def _sine_pair(sf=4.0, n=1600, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n) / sf
    s = np.sin(2 * np.pi * 0.1 * t)
    return s + rng.standard_normal(n), np.roll(s, 3) + rng.standard_normal(n), sf


def test_wavelet_coherence_shared_sinusoid():
    x, y, sf = _sine_pair()
    res = wavelet_coherence(x, y, sf)
    wtc, freqs, coi = res.wtc, res.freqs, res.coi
    assert wtc.shape == (freqs.size, x.size) and coi.shape == (x.size,)
    assert np.all((wtc >= 0) & (wtc <= 1))
    assert np.all(np.diff(freqs) < 0)  # ascending scale
    inside = (1.0 / freqs)[:, None] < coi[None, :]  # outside the cone of influence
    i = np.argmin(np.abs(freqs - 0.1))
    at = wtc[i][inside[i]].mean()
    far = (np.abs(np.log2(freqs / 0.1)) > 1.5)[:, None] & inside
    assert at > 0.9
    assert wtc[far].mean() < 0.55
    # phase of the smoothed cross-spectrum = the planted lead of x (3 samples at 0.1 Hz)
    phase = res.phase
    expected = 2 * np.pi * 0.1 * 3 / sf
    assert np.median(phase[i][inside[i]]) == pytest.approx(expected, abs=0.15)
    # independent noise: no band with coherence near 1 on average
    rng = np.random.default_rng(1)
    w0 = wavelet_coherence(rng.standard_normal(1600), rng.standard_normal(1600), sf).wtc
    assert w0[inside].mean() < 0.5


def test_wavelet_coherence_freq_range_and_errors():
    x, y, sf = _sine_pair(n=400)
    res = wavelet_coherence(x, y, sf, freqs=(0.05, 0.5))
    wtc, freqs = res.wtc, res.freqs
    assert freqs.max() == pytest.approx(0.5, rel=1e-6) and freqs.min() >= 0.05 - 1e-9
    assert np.allclose(np.diff(np.log2(1 / freqs)), 1 / 12)
    np.testing.assert_allclose(wavelet_coherence(x, y, sf, periods=(2.0, 20.0)).wtc, wtc)
    with pytest.raises(ValueError, match="not both"):
        wavelet_coherence(x, y, sf, freqs=(0.05, 0.5), periods=(2.0, 20.0))
    with pytest.raises(ValueError, match="1-D signals"):
        wavelet_coherence(np.stack([x, x]), y, sf)
    with pytest.raises(ValueError, match="same number of samples"):
        wavelet_coherence(x, y[:-1], sf)
    bad = x.copy()
    bad[3] = np.inf
    with pytest.raises(ValueError, match="x contains 1 NaN/inf"):
        wavelet_coherence(bad, y, sf)
    with pytest.raises(ValueError, match="highest resolvable frequency"):
        wavelet_coherence(x, y, sf, freqs=(0.1, 3.0))
    with pytest.raises(ValueError, match="freqs must be None or a"):
        wavelet_coherence(x, y, sf, freqs=(0.5, 0.1))
    with pytest.raises(ValueError, match="scale_smoothing must be one of"):
        wavelet_coherence(x, y, sf, scale_smoothing="box")


def test_wavelet_coherence_matches_pycwt():
    pycwt = pytest.importorskip("pycwt")
    x, y, sf = _sine_pair(sf=7.8125, n=1200)
    res = wavelet_coherence(x, y, sf, scale_smoothing="pycwt")
    wtc, freqs, coi = res.wtc, res.freqs, res.coi
    ref, _aw, ref_coi, ref_freqs, _sig = pycwt.wct(x, y, 1 / sf, sig=False, normalize=True)
    np.testing.assert_allclose(freqs, ref_freqs, rtol=1e-12)
    np.testing.assert_allclose(coi, ref_coi, rtol=1e-12)
    np.testing.assert_allclose(wtc, ref, atol=1e-8)


def test_fnirs_parent_child_real_pair(shared_data):
    import mne

    raws = []
    for who in ("parent", "child"):
        raw = mne.io.read_raw_nirx(shared_data / "fnirs-parent-child" / who, verbose=False)
        od = mne.preprocessing.nirs.optical_density(raw.load_data(), verbose=False)
        hb = mne.preprocessing.nirs.beer_lambert_law(od, ppf=6.0)
        raws.append(hb.pick("hbo"))
    n = min(r.n_times for r in raws)
    x1, x2 = (r.get_data()[:, :n] for r in raws)
    sf = raws[0].info["sfreq"]
    r = lagged_correlation(x1, x2, sf, (0.0, 2.0, 5.0), window=60.0)
    assert len(r.node_in) == x1.shape[0] == 20
    v = r.get_data()
    assert np.isfinite(v).all() and np.abs(v).max() <= 1 + 1e-12
    isc = lagged_correlation(x1, x2, sf, (0.0,), metric="isc")
    assert np.isfinite(isc.get_data()).all()
    res = wavelet_coherence(x1[0], x2[0], sf, freqs=(0.01, 0.5))
    wtc, coi = res.wtc, res.coi
    assert np.isfinite(wtc).all() and wtc.min() >= 0 and wtc.max() <= 1
    assert np.isfinite(coi).all()


def test_wavelet_coherence_result_object():
    x, y, sf = _sine_pair(n=400)
    res = wavelet_coherence(x, y, sf, freqs=(0.05, 0.5))
    df = res.to_data_frame()
    assert list(df.columns) == ["freq", "time", "wtc", "phase", "in_coi"]
    assert len(df) == res.wtc.size and repr(res).startswith("<WaveletCoherenceResult | ")
    with pytest.warns(DeprecationWarning, match=r"unpacking it as a tuple is deprecated"):
        wtc, freqs, coi = res
    np.testing.assert_array_equal(wtc, res.wtc)
    with pytest.warns(DeprecationWarning):
        *_, phase = wavelet_coherence(x, y, sf, freqs=(0.05, 0.5), return_phase=True)
    np.testing.assert_array_equal(phase, res.phase)
