"""FIR encoding of slow signals: resampling, speaking/listening spaces, run-aware delays."""

from __future__ import annotations

import numpy as np
import pytest

from hyperalign.encoding.fir import average_resample, event_features, fit_fir, lanczos_resample

TR = 1.5


def _events(rng, n_acq):
    t = np.sort(rng.uniform(0, n_acq * TR, 900))
    spk = np.where((t // 20) % 2 == 0, "A", "B")  # 20-s turns
    return t, spk, rng.standard_normal((t.size, 4))


def test_resamplers():
    t = np.array([0.1, 0.4, 1.6, 5.0])
    v = np.array([1.0, 3.0, 2.0, 7.0])
    np.testing.assert_allclose(average_resample(v, t, 3, 1.0)[:, 0], [2.0, 2.0, 0.0])
    nt = np.arange(10) * TR
    out = lanczos_resample(v, t, nt)
    u = (nt[2] - t) / TR
    with np.errstate(invalid="ignore", divide="ignore"):
        w = np.where(
            np.abs(u) > 3, 0, 3 * np.sin(np.pi * u) * np.sin(np.pi * u / 3) / (np.pi * u) ** 2
        )
    np.testing.assert_allclose(out[2, 0], w @ v)
    # a dense constant signal comes out flat (away from the edges)
    tt = np.arange(0, 60, 0.05)
    flat = lanczos_resample(np.ones(tt.size), tt, np.arange(5, 35) * TR)[:, 0]
    assert np.ptp(flat) / flat.mean() < 0.01


def test_planted_fir_recovered_with_runs():
    rng = np.random.default_rng(0)
    n_acq = 400
    t, spk, V = _events(rng, n_acq)
    sp = event_features(V, t, spk, participant="A", n_acq=n_acq, sfreq=1 / TR)
    assert set(sp) == {"speak_features", "listen_features"}
    kern = np.array([0, 0.3, 0.8, 1.0, 0.6, 0.2, 0.0])  # peak at 3 TRs
    W = rng.standard_normal((4, 6))
    drive = sum(
        np.convolve(sp["speak_features"][:, f], kern)[:n_acq][:, None] * W[f] for f in range(4)
    )
    Y = rng.standard_normal((n_acq, 8))
    Y[:, :6] += drive / drive.std(0)
    runs = np.repeat([1, 2], n_acq // 2)
    res = fit_fir(Y, {"speak_features": sp["speak_features"]}, sfreq=1 / TR, delays=(0, 6),
                  runs=runs, alphas=np.logspace(-1, 4, 6))  # fmt: skip
    ds = res.dataset
    assert ds.sizes["fold"] == 2  # leave one run out
    assert (ds["r"].values[:6] > 0.4).all() and (np.abs(ds["r"].values[6:]) < 0.25).all()
    prof = np.abs(ds["coef"]).mean(("feature", "target")).values
    assert int(np.argmax(prof)) == 3
    both = fit_fir(Y, sp, sfreq=1 / TR, delays=(0, 6), alphas=np.logspace(-1, 4, 6),
                   n_permutations=9, random_state=0)  # fmt: skip
    s = both.dataset["split_r2"]
    assert (s.sel(space="speak_features")[:6] > s.sel(space="listen_features")[:6]).all()
    assert "p_fwer" in both.dataset


def test_fir_bad_inputs():
    Y = np.zeros((50, 2))
    with pytest.raises(ValueError, match="resample the features"):
        fit_fir(Y, {"x": np.ones((40, 1))}, sfreq=1.0)
    with pytest.raises(ValueError, match="sfreq must be given"):
        fit_fir(Y, {"x": np.ones((50, 1))})
    with pytest.raises(ValueError, match="runs has 3 labels"):
        fit_fir(Y, {"x": np.ones((50, 1))}, sfreq=1.0, runs=[1, 2, 3])


def test_fir_on_real_fnirs(shared_data):
    """Real HbO/HbR background (NIRx parent recording) with a planted response."""
    import mne

    raw = mne.io.read_raw_nirx(shared_data / "fnirs-parent-child" / "parent", verbose=False)
    raw = mne.preprocessing.nirs.optical_density(raw.load_data(), verbose=False)
    raw = mne.preprocessing.nirs.beer_lambert_law(raw, ppf=6.0)
    raw.filter(0.01, 0.5, verbose=False)
    raw.resample(2.0, verbose=False)  # 2 Hz: 0-15 s = 31 delays
    n = raw.n_times
    rng = np.random.default_rng(1)
    t, spk, V = _events(rng, int(n / 2.0 / TR))
    sp = event_features(V[:, :2], t, spk, participant="A", n_acq=n, sfreq=2.0, method="average")
    x = sp["speak_features"][:, 0]
    hrf = np.exp(-0.5 * ((np.arange(31) / 2.0 - 6.0) / 2.0) ** 2)  # peak at 6 s
    resp = np.convolve(x, hrf)[:n]
    data = raw.get_data()
    data[:4] += 3 * data[:4].std(1, keepdims=True) * resp / resp.std()
    raw._data = data
    res = fit_fir(raw, {"speak": x}, delays=(0, 30), alphas=np.logspace(-2, 6, 9))
    r = res.dataset["r"].values
    assert raw.get_channel_types()[:4] and (r[:4] > 0.5).all()
    assert np.median(r[4:]) < 0.2
    lag = res.dataset["coef"].isel(target=slice(0, 4)).mean(("feature", "target")).idxmax().item()
    assert abs(lag - 6.0) <= 1.0
