"""Surrogates: spectra and autocorrelation kept, cross-brain coupling destroyed; pseudo-dyads;
surrogate synchrony and z-scores."""

from __future__ import annotations

import numpy as np
import pytest

from hyperalign.coupling.dyad_sync import compute_dyad_sync
from hyperalign.coupling.spectral import analytic_signal
from hyperalign.coupling.surrogates import (
    _phase_randomize_analytic,
    circular_shift,
    compute_surrogate_sync,
    make_pseudo_dyads,
    make_surrogates,
    null_values,
    phase_randomize,
    segment_shuffle,
    surrogate_zscore,
)


@pytest.fixture
def signals():
    rng = np.random.default_rng(0)
    n = 2048
    from scipy.signal import lfilter

    common = lfilter([1.0], [1.0, -0.9], rng.standard_normal(n))  # AR(1): a coloured spectrum
    x = common + 0.3 * rng.standard_normal((4, n))
    return x


@pytest.mark.parametrize("n_times", [2048, 2047])
@pytest.mark.parametrize("multivariate", [False, True])
def test_phase_randomize_keeps_power_spectrum_exactly(signals, n_times, multivariate):
    x = signals[:, :n_times]
    s = phase_randomize(x, multivariate=multivariate, random_state=1)
    assert s.shape == x.shape and np.isrealobj(s)
    np.testing.assert_allclose(
        np.abs(np.fft.rfft(s)), np.abs(np.fft.rfft(x)), rtol=1e-10, atol=1e-9
    )
    assert not np.allclose(s, x)


def test_phase_randomize_destroys_cross_correlation(signals):
    x = signals
    r_before = np.corrcoef(x[0], x[1])[0, 1]
    rs = [np.corrcoef(x[0], phase_randomize(x[1], random_state=k))[0, 1] for k in range(40)]
    assert r_before > 0.8
    assert abs(np.mean(rs)) < 0.1
    # lagged cross-correlation at every lag is destroyed too
    y = phase_randomize(x[1], random_state=3)
    xc = np.fft.irfft(np.fft.rfft(x[0] - x[0].mean()) * np.conj(np.fft.rfft(y - y.mean())))
    xc /= np.linalg.norm(x[0] - x[0].mean()) * np.linalg.norm(y - y.mean())
    assert np.abs(xc).max() < 0.5 * r_before


def test_multivariate_phase_randomization_keeps_cross_spectra(signals):
    s = phase_randomize(signals, multivariate=True, random_state=2)
    fx, fs = np.fft.rfft(signals), np.fft.rfft(s)
    cross_x = fx[0] * np.conj(fx[1])
    cross_s = fs[0] * np.conj(fs[1])
    np.testing.assert_allclose(cross_s, cross_x, rtol=1e-8, atol=1e-8)
    # within-brain correlation kept, correlation with the original broken
    assert np.corrcoef(s[0], s[1])[0, 1] == pytest.approx(
        np.corrcoef(signals[0], signals[1])[0, 1]
    )
    u = phase_randomize(signals, multivariate=False, random_state=2)
    assert abs(np.corrcoef(u[0], u[1])[0, 1]) < 0.3


def test_phase_randomizing_the_analytic_signal_equals_filtering_the_surrogate(signals):
    sf = 100.0
    bands = {"theta": (4.0, 8.0), "alpha": (8.0, 13.0)}
    z = analytic_signal(signals, sf, bands, filter_method="fft")  # (C, B, T)
    zb = np.swapaxes(z, 0, 1)
    zs = _phase_randomize_analytic(zb, True, np.random.default_rng(5))
    xs = phase_randomize(signals, multivariate=True, random_state=5)
    ref = np.swapaxes(analytic_signal(xs, sf, bands, filter_method="fft"), 0, 1)
    np.testing.assert_allclose(zs, ref, atol=1e-10)


def test_circular_shift_keeps_autocorrelation(signals):
    s = circular_shift(signals, min_shift=100, random_state=0)
    shift = next(
        d for d in range(signals.shape[1]) if np.allclose(s, np.roll(signals, d, axis=-1))
    )
    assert 100 <= shift <= signals.shape[1] - 100
    acf = lambda v: np.fft.irfft(np.abs(np.fft.rfft(v)) ** 2, n=v.shape[-1])  # noqa: E731
    np.testing.assert_allclose(acf(s), acf(signals), rtol=1e-10, atol=1e-8)
    # ordinary (non-circular) autocorrelation at short lags is kept up to edge terms
    x0, s0 = signals[0] - signals[0].mean(), s[0] - s[0].mean()
    for lag in (1, 5, 20):
        a = np.dot(x0[:-lag], x0[lag:]) / np.dot(x0, x0)
        b = np.dot(s0[:-lag], s0[lag:]) / np.dot(s0, s0)
        assert a == pytest.approx(b, abs=0.02)
    np.testing.assert_array_equal(circular_shift(signals, 7), np.roll(signals, 7, axis=-1))


def test_segment_shuffle_permutes_whole_segments(signals):
    s = segment_shuffle(signals, 8, random_state=0)
    assert not np.array_equal(s, signals)
    seg = signals.shape[1] // 8
    blocks = [signals[:, i * seg : (i + 1) * seg] for i in range(8)]
    for i in range(8):
        piece = s[:, i * seg : (i + 1) * seg]
        assert any(np.array_equal(piece, b) for b in blocks)
    np.testing.assert_allclose(np.sort(s, -1), np.sort(signals, -1))


def test_make_surrogates_stacks_and_validates(signals):
    out = make_surrogates(signals, "circular_shift", 3, random_state=0)
    assert out.shape == (3,) + signals.shape
    with pytest.raises(ValueError, match="method must be one of"):
        make_surrogates(signals, "bogus")
    bad = signals.copy()
    bad[1, 10] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        phase_randomize(bad)
    with pytest.raises(ValueError, match="n_segments"):
        segment_shuffle(signals, 1)
    with pytest.raises(ValueError, match="min_shift"):
        circular_shift(signals, min_shift=5000)


@pytest.fixture(scope="module")
def dyads(make_planted_dyad):
    return [make_planted_dyad(seed=s, dyad_id=f"d{s}", duration=40.0 + 5 * s) for s in range(3)]


def test_make_pseudo_dyads(dyads, make_planted_dyad):
    pseudo = make_pseudo_dyads(dyads)
    assert len(pseudo) == 6
    p = pseudo[0]
    assert p.dyad_id == "pseudo:d0+d1"
    assert p.meta["pseudo"]["donor"] == "d1"
    assert p[1].info["source"] == {"dyad": "d1", "participant": "B"}
    assert p.ids == dyads[0].ids
    np.testing.assert_array_equal(
        p[0].raw.get_data(), dyads[0][0].raw.get_data()[:, : p[0].raw.n_times]
    )
    np.testing.assert_array_equal(
        p[1].raw.get_data(), dyads[1][1].raw.get_data()[:, : p[1].raw.n_times]
    )
    # matched on duration: cropped to the shorter recording
    assert p.duration == pytest.approx(min(dyads[0].duration, dyads[1].duration), abs=0.02)
    assert pseudo[2].duration == pytest.approx(dyads[0].duration, abs=0.02)  # d1 host, d0 donor
    two = make_pseudo_dyads(dyads, n=2, random_state=0)
    assert len(two) == 2 and len({d.dyad_id for d in two}) == 2
    with pytest.raises(ValueError, match="at least 2 dyads"):
        make_pseudo_dyads(dyads[:1])
    with pytest.raises(ValueError, match="n must be between 1 and 6"):
        make_pseudo_dyads(dyads, n=7)
    other = make_planted_dyad(n_channels=5, dyad_id="five")
    with pytest.raises(ValueError, match="same channels"):
        make_pseudo_dyads([dyads[0], other])
    slow = make_planted_dyad(sfreq=50.0, dyad_id="slow", duration=20.0)
    with pytest.raises(ValueError, match="different sampling rates"):
        make_pseudo_dyads([dyads[0], slow])


KW = dict(metrics=("plv", "ccorr"), bands={"theta": (4.0, 8.0)}, lags=(0.0, 0.2))


@pytest.mark.parametrize(
    "method", ["circular_shift", "phase_randomization", "segment_shuffle", "pseudo_dyads"]
)
def test_compute_surrogate_sync_shapes_and_null(dyads, method):
    d = dyads[0]
    obs = compute_dyad_sync(d, **KW)
    others = dyads[1:] if method == "pseudo_dyads" else None
    null = compute_surrogate_sync(d, method, 2, others=others, random_state=0, **KW)
    assert null.n_epochs == 2 * obs.n_epochs
    assert null.attrs["surrogate_method"] == method
    s = null_values(null, obs.n_epochs)
    assert s.shape == (2,) + obs.xarray.shape
    np.testing.assert_array_equal(null.xarray["utterance_id"].values[: obs.n_epochs],
                                  obs.xarray["utterance_id"].values)  # fmt: skip
    # the planted coupling is gone from every surrogate
    planted = obs.xarray.sel(metric="plv", lags=0.2).values[:, 0, :3, :3]
    sur = s[:, 0, :, 0, 1, :3, :3]
    assert np.nanmean(sur) < np.nanmean(planted) - 0.2


def test_surrogates_are_reproducible(dyads):
    a = compute_surrogate_sync(dyads[0], "circular_shift", 2, random_state=4, **KW)
    b = compute_surrogate_sync(dyads[0], "circular_shift", 2, random_state=4, **KW)
    np.testing.assert_array_equal(a.xarray.values, b.xarray.values)


def test_pseudo_dyad_surrogate_shorter_partner_gives_nan(dyads):
    d = dyads[2]  # the longest
    null = compute_surrogate_sync(d, "pseudo_dyads", 1, others=[dyads[0]], **KW)
    onset = null.xarray["onset"].values
    vals = null.xarray.values[0, :, 0, 0, 0, 0]
    assert np.isnan(vals[onset > dyads[0].duration]).all()
    assert np.isfinite(vals[onset + 6 < dyads[0].duration]).all()
    with pytest.raises(ValueError, match="others"):
        compute_surrogate_sync(d, "pseudo_dyads", 1, **KW)
    with pytest.raises(ValueError, match="only 1 other"):
        compute_surrogate_sync(d, "pseudo_dyads", 3, others=[dyads[0]], **KW)


def test_surrogate_zscore_matches_manual(dyads):
    obs = compute_dyad_sync(dyads[0], **KW)
    null = compute_surrogate_sync(dyads[0], "circular_shift", 9, random_state=0, **KW)
    ds = surrogate_zscore(obs, null)
    s = null_values(null)
    o = obs.xarray.values
    mu, sd = s.mean(0), s.std(0, ddof=1)
    np.testing.assert_allclose(ds["z"].values, (o - mu) / sd, rtol=1e-10)
    pct = 100 * ((s < o).sum(0) + 0.5 * (s == o).sum(0)) / 9
    np.testing.assert_allclose(ds["pct"].values, pct)
    np.testing.assert_allclose(ds["p"].values, (1 + (s >= o).sum(0)) / 10)
    dy = surrogate_zscore(obs, null, level="dyad")
    assert dy["z"].sizes["epochs"] == 1
    np.testing.assert_allclose(dy["sync"].values[:, 0], o.mean(1))
    np.testing.assert_allclose(
        dy["z"].values[:, 0], (o.mean(1) - s.mean(2).mean(0)) / s.mean(2).std(0, ddof=1)
    )
    other = compute_dyad_sync(dyads[0], metrics=("plv",), bands={"theta": (4.0, 8.0)})
    with pytest.raises(ValueError, match="differ in shape"):
        surrogate_zscore(other, null)
    with pytest.raises(ValueError, match="compute_surrogate_sync"):
        surrogate_zscore(obs, obs)


def test_null_round_trips_through_netcdf(dyads, tmp_path):
    from hyperalign.coupling.results import read_coupling

    obs = compute_dyad_sync(dyads[0], **KW)
    null = compute_surrogate_sync(dyads[0], "phase_randomization", 3, random_state=0, **KW)
    back = read_coupling(null.save(tmp_path / "null.nc"))
    np.testing.assert_array_equal(null_values(back), null_values(null))
    a = surrogate_zscore(obs, back)
    b = surrogate_zscore(obs, null)
    np.testing.assert_array_equal(a["z"].values, b["z"].values)
    assert back.attrs["surrogate_method"] == "phase_randomization"
