"""Metric properties on simulated signals, lags, modes and clear errors on bad inputs."""

from __future__ import annotations

import numpy as np
import pytest

from hyperalign.coupling import (
    DEFAULT_BANDS,
    METRICS,
    analytic_signal,
    compute_sync,
    resolve_metric,
    sync_from_analytic,
)

SF = 100.0


def _lagged_pair(lag_samples=5, n_ep=6, n_ch=3, n_t=400, noise=0.5, seed=0):
    """S2 = S1's 10 Hz source delayed by ``lag_samples`` + noise (S2 lags S1)."""
    rng = np.random.default_rng(seed)
    src = rng.standard_normal((n_ep, 1, n_t + lag_samples))
    s1 = src[..., lag_samples:] + noise * rng.standard_normal((n_ep, n_ch, n_t))
    s2 = src[..., :n_t] + noise * rng.standard_normal((n_ep, n_ch, n_t))
    return np.stack([s1, s2])


def test_registry_and_aliases():
    for name in ["plv", "ccorr", "accorr", "coh", "imcoh", "pli", "wpli", "envelope_corr"]:
        assert name in METRICS
    assert "pow_corr" in METRICS
    assert resolve_metric("imaginary_coh") == "imcoh"
    assert resolve_metric("MSC") == "coh_squared"
    assert resolve_metric("envcorr") == "envelope_corr"
    with pytest.raises(ValueError, match="unknown metric 'foo'; allowed metrics are"):
        resolve_metric("foo")
    assert set(DEFAULT_BANDS) == {"delta", "theta", "alpha", "beta", "gamma"}


def test_lag_recovers_planted_delay_and_sign_convention():
    data = _lagged_pair(lag_samples=5)
    lags = np.arange(-10, 11) / SF
    con = compute_sync(data, SF, {"alpha": (8, 12)}, ["plv", "envelope_corr"], lags=lags)
    plv = con.get_data("plv")[:, 0].mean(axis=(0, 2, 3))  # per lag
    # S2 = S1 delayed by 5 samples: S2 lags S1 by +0.05 s
    assert lags[np.argmax(plv)] == pytest.approx(0.05)
    assert plv.max() > 0.5 and plv.max() > 2 * plv[0]
    env = con.get_data("envelope_corr")[:, 0].mean(axis=(0, 2, 3))
    assert lags[np.argmax(env)] == pytest.approx(0.05, abs=0.021)  # envelopes are smooth


def test_lag_is_computed_on_overlap():
    data = _lagged_pair()
    con = compute_sync(data, SF, {"alpha": (8, 12)}, "plv", lags=(0.03,))
    z = analytic_signal(data, SF, {"alpha": (8, 12)})[..., 0, :]
    ref = sync_from_analytic(z[0][..., :-3], z[1][..., 3:], "plv")
    np.testing.assert_allclose(con.get_data("plv")[:, 0, 0], ref, rtol=1e-12)
    con = compute_sync(data, SF, {"alpha": (8, 12)}, "plv", lags=(-0.03,))
    ref = sync_from_analytic(z[0][..., 3:], z[1][..., :-3], "plv")
    np.testing.assert_allclose(con.get_data("plv")[:, 0, 0], ref, rtol=1e-12)


def test_metric_properties():
    data = _lagged_pair(lag_samples=3, noise=0.1)
    names = list(METRICS)
    con = compute_sync(data, SF, {"alpha": (8, 12)}, names, mode="all")
    v = {n: con.get_data(n)[:, 0, 0] for n in names}
    n_ch = data.shape[2]
    for n in ["plv", "coh", "pli", "wpli", "coh_squared", "ccorr", "imcoh"]:
        assert np.all((v[n] >= -1e-12) & (v[n] <= 1 + 1e-12)), n
        np.testing.assert_allclose(v[n], np.swapaxes(v[n], -1, -2), atol=1e-12)  # symmetric
    for n in ["imcoh_signed"]:
        np.testing.assert_allclose(v[n], -np.swapaxes(v[n], -1, -2), atol=1e-12)
    diag = np.arange(2 * n_ch)
    np.testing.assert_allclose(v["plv"][:, diag, diag], 1.0)
    np.testing.assert_allclose(v["coh"][:, diag, diag], 1.0)
    np.testing.assert_allclose(v["envelope_corr"][:, diag, diag], 1.0)
    assert np.all(v["pli"][:, diag, diag] == 0)
    np.testing.assert_allclose(v["wpli"][:, diag, diag], 0.0, atol=1e-12)  # 0/0 -> 0
    # strong lagged coupling: inter-brain phase measures high, lagged -> pli/wpli high too
    inter = (slice(None), slice(0, n_ch), slice(n_ch, None))
    assert v["plv"][inter].mean() > 0.8 and v["wpli"][inter].mean() > 0.8


def test_independent_signals_low():
    rng = np.random.default_rng(5)
    data = rng.standard_normal((2, 8, 4, 1000))
    con = compute_sync(data, SF, {"alpha": (8, 12)}, ["plv", "wpli", "coh"])
    for n in ["plv", "wpli", "coh"]:
        assert con.get_data(n).mean() < 0.3, n


def test_chunking_and_float32_consistent():
    data = _lagged_pair()
    a = compute_sync(data, SF, {"alpha": (8, 12)}, ["plv", "wpli", "accorr"])
    b = compute_sync(data, SF, {"alpha": (8, 12)}, ["plv", "wpli", "accorr"], chunk_size=1)
    np.testing.assert_allclose(b.get_data(), a.get_data(), rtol=1e-12)
    c = compute_sync(data, SF, {"alpha": (8, 12)}, ["plv", "wpli", "accorr"], dtype="float32")
    assert c.get_data().dtype == np.float32
    np.testing.assert_allclose(c.get_data(), a.get_data(), atol=1e-4)


def test_fft_filter_close_to_fir_inside_epoch():
    """Both filters estimate the same analytic signal away from the epoch edges."""
    data = _lagged_pair(n_t=1000)
    bands = {"alpha": (8, 12)}
    za = analytic_signal(data, SF, bands)[..., 0, 200:-200]
    zb = analytic_signal(data, SF, bands, filter_method="fft")[..., 0, 200:-200]
    corr = np.abs(np.vdot(za, zb)) / np.sqrt(np.vdot(za, za).real * np.vdot(zb, zb).real)
    assert corr > 0.97


# ---- errors --------------------------------------------------------------------------------
def test_error_messages():
    rng = np.random.default_rng(0)
    good = rng.standard_normal((2, 3, 2, 400))
    with pytest.raises(ValueError, match=r"\(2, n_epochs, n_channels, n_times\)"):
        compute_sync(good[0], SF, {"a": (8, 12)}, "plv")
    with pytest.raises(ValueError, match="same number of channels; S1 has 2, S2 has 3"):
        compute_sync([good[0], rng.standard_normal((3, 3, 400))], SF, {"a": (8, 12)}, "plv")
    with pytest.raises(ValueError, match="same number of epochs; S1 has 3, S2 has 2"):
        compute_sync([good[0], good[1][:2]], SF, {"a": (8, 12)}, "plv")
    bad = good.copy()
    bad[1, 2, 1, 10] = np.nan
    with pytest.raises(ValueError, match="participant S2, epoch 2, channel 1"):
        compute_sync(bad, SF, {"a": (8, 12)}, "plv")
    with pytest.raises(ValueError, match="unknown metric 'plvv'"):
        compute_sync(good, SF, {"a": (8, 12)}, ["plv", "plvv"])
    with pytest.raises(ValueError, match="fewer than min_cycles=3"):
        compute_sync(good, SF, {"delta": (0.5, 4)}, "plv", filter_method="fft")
    with pytest.raises(ValueError, match="FIR filter has 165 taps but epochs have only 150"):
        compute_sync(good[..., :150], SF, {"theta": (4, 8)}, "plv")
    with pytest.raises(ValueError, match="lags .* as long as the epochs"):
        compute_sync(good, SF, {"a": (8, 12)}, "plv", lags=(0.0, 4.0))
    with pytest.raises(ValueError, match="0 < fmin < fmax < sfreq/2"):
        compute_sync(good, SF, {"a": (12, 8)}, "plv")
    with pytest.raises(ValueError, match="mode must be one of"):
        compute_sync(good, SF, {"a": (8, 12)}, "plv", mode="intra")
    with pytest.raises(ValueError, match="epochs_metadata has 2 rows but data has 3 epochs"):
        import pandas as pd

        compute_sync(good, SF, {"a": (8, 12)}, "plv", epochs_metadata=pd.DataFrame({"x": [1, 2]}))
    with pytest.raises(ValueError, match="ch_names must list 2 channels"):
        compute_sync(good, SF, {"a": (8, 12)}, "plv", ch_names=["a", "b", "c"])
    with pytest.raises(ValueError, match="chunk_size must be a positive integer"):
        compute_sync(good, SF, {"a": (8, 12)}, "plv", chunk_size=0)
    with pytest.raises(TypeError, match="complex analytic signals"):
        sync_from_analytic(good[0], good[1], "plv")


def test_on_short_warn_goes_on_like_hypyp():
    import logging

    from hyperalign.utils import logger

    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logger.addHandler(handler)
    try:
        rng = np.random.default_rng(0)
        data = rng.standard_normal((2, 2, 2, 150))
        con = compute_sync(data, SF, {"theta": (4, 8)}, "plv", on_short="warn")
    finally:
        logger.removeHandler(handler)
    assert np.isfinite(con.get_data()).all()
    assert any("165 taps" in r.getMessage() for r in records)


def test_filter_method_and_deprecated_filter_alias():
    """``filter_method=`` names the band-pass; ``filter=`` (the builtin's name) is a deprecated
    alias with the same values (issue 11)."""
    from hyperalign.coupling import analytic_signal

    rng = np.random.default_rng(7)
    data = rng.standard_normal((2, 3, 2, 512))
    bands = {"alpha": (8.0, 12.0)}
    new = compute_sync(data, 256.0, bands, "plv", filter_method="fft", n_threads=1)
    with pytest.warns(FutureWarning, match=r"compute_sync\(filter=.*use filter_method="):
        old = compute_sync(data, 256.0, bands, "plv", filter="fft", n_threads=1)
    np.testing.assert_array_equal(old.get_data(), new.get_data())
    assert new.attrs["filter"] == old.attrs["filter"] == "fft"
    z = analytic_signal(data[0], 256.0, bands, filter_method="fft")
    with pytest.warns(FutureWarning, match=r"analytic_signal\(filter="):
        z_old = analytic_signal(data[0], 256.0, bands, filter="fft")
    np.testing.assert_array_equal(z_old, z)
    with pytest.raises(ValueError, match="filter_method"):
        compute_sync(data, 256.0, bands, "plv", filter_method="iir")
