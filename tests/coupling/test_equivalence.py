"""hyperalign vs HyPyP and mne-connectivity on the same input (float64, rtol 1e-6)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from hyperalign.coupling import METRICS, analytic_signal, compute_sync, sync_from_analytic

hypyp_analyses = pytest.importorskip("hypyp.analyses")

BANDS = {"theta": (4.0, 8.0), "alpha": (8.0, 13.0)}
HYPYP_METRICS = [m.name for m in METRICS.values() if m.hypyp is not None]


def _hypyp_sync(data, sfreq, bands, metric, **filter_options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        z = hypyp_analyses.compute_freq_bands(data, sfreq, bands, **filter_options)
        return hypyp_analyses.compute_sync(z, METRICS[metric].hypyp, epochs_average=False)


@pytest.fixture(scope="module")
def sim():
    """Two participants with a shared, lagged 6 Hz / 10 Hz component plus noise."""
    rng = np.random.default_rng(42)
    sfreq, n_ep, n_ch, n_t = 128.0, 6, 5, 256
    t = np.arange(n_t) / sfreq
    common = np.sin(2 * np.pi * 6 * t + rng.uniform(0, 2 * np.pi, (n_ep, 1, 1)))
    common = common + 0.7 * np.sin(2 * np.pi * 10 * t + rng.uniform(0, 6, (n_ep, 1, 1)))
    d1 = common + rng.standard_normal((n_ep, n_ch, n_t))
    d2 = np.roll(common, 3, axis=-1) + rng.standard_normal((n_ep, n_ch, n_t))
    return np.stack([d1, d2]), sfreq


def test_analytic_signal_matches_hypyp(sim):
    data, sfreq = sim
    ref = hypyp_analyses.compute_freq_bands(data, sfreq, BANDS)
    ours = analytic_signal(data, sfreq, BANDS)
    assert ours.shape == ref.shape
    np.testing.assert_allclose(ours, ref, rtol=1e-10, atol=1e-12 * np.abs(ref).max())


@pytest.mark.parametrize("metric", HYPYP_METRICS)
def test_compute_sync_matches_hypyp_all(sim, metric):
    data, sfreq = sim
    ref = _hypyp_sync(data, sfreq, BANDS, metric)  # (bands, epochs, 2C, 2C)
    con = compute_sync(data, sfreq, BANDS, metric, mode="all")
    ours = con.get_data(metric)[:, :, 0]  # (epochs, bands, 2C, 2C)
    ours = np.moveaxis(ours, 1, 0)
    np.testing.assert_allclose(ours, ref, rtol=1e-6, atol=1e-10)


@pytest.mark.parametrize("metric", HYPYP_METRICS)
def test_compute_sync_inter_block(sim, metric):
    data, sfreq = sim
    n_ch = data.shape[2]
    ref = _hypyp_sync(data, sfreq, BANDS, metric)[:, :, :n_ch, n_ch:]
    ours = np.moveaxis(compute_sync(data, sfreq, BANDS, metric).get_data(metric)[:, :, 0], 1, 0)
    np.testing.assert_allclose(ours, ref, rtol=1e-6, atol=1e-10)


@pytest.mark.parametrize("metric", ["plv", "coh", "wpli", "accorr"])
def test_fft_filter_float32_and_numpy_fallback(sim, metric):
    data, sfreq = sim
    a = compute_sync(data, sfreq, BANDS, metric, filter_method="fft").get_data(metric)
    b = compute_sync(data, sfreq, BANDS, metric, filter_method="fft", dtype="float32")
    np.testing.assert_allclose(b.get_data(metric), a, atol=1e-4)
    c = compute_sync(data, sfreq, BANDS, metric, use_numba=False).get_data(metric)
    d = compute_sync(data, sfreq, BANDS, metric, use_numba=True).get_data(metric)
    np.testing.assert_allclose(c, d, rtol=1e-10, atol=1e-12)


def test_signed_and_squared_variants(sim):
    data, sfreq = sim
    z = analytic_signal(data, sfreq, {"theta": (4, 8)})[..., 0, :]
    coh = sync_from_analytic(z[0], z[1], "coh")
    np.testing.assert_allclose(sync_from_analytic(z[0], z[1], "msc"), coh**2, rtol=1e-12)
    ims = sync_from_analytic(z[0], z[1], "imcoh_signed")
    np.testing.assert_allclose(np.abs(ims), sync_from_analytic(z[0], z[1], "imcoh"), rtol=1e-12)
    # signed: antisymmetric in the order of the participants
    np.testing.assert_allclose(
        sync_from_analytic(z[1], z[0], "imcoh_signed"), -np.swapaxes(ims, -1, -2), rtol=1e-12
    )
    cs = sync_from_analytic(z[0], z[1], "ccorr_signed")
    np.testing.assert_allclose(np.abs(cs), sync_from_analytic(z[0], z[1], "ccorr"), rtol=1e-12)


def test_real_eeg_matches_hypyp(shared_data):
    mne = pytest.importorskip("mne")
    folder = shared_data / "eeg-hypyp-pair"
    if not folder.is_dir():
        pytest.skip(f"{folder} not found")
    e1 = mne.read_epochs(folder / "S1-epo.fif", verbose=False)
    e2 = mne.read_epochs(folder / "S2-epo.fif", verbose=False)
    data = np.stack([e1.get_data(copy=True), e2.get_data(copy=True)])[:, :12]
    sfreq = e1.info["sfreq"]
    bands = {"beta": (14.0, 30.0), "gamma": (30.0, 45.0)}
    for metric in HYPYP_METRICS:
        ref = _hypyp_sync(data, sfreq, bands, metric)
        ours = compute_sync(data, sfreq, bands, metric, mode="all").get_data(metric)[:, :, 0]
        np.testing.assert_allclose(np.moveaxis(ours, 1, 0), ref, rtol=1e-6, atol=1e-10)


# ---- mne-connectivity: spectral_connectivity_time (per epoch, over time) -------------------
# mne-connectivity's "time" connectivity uses the same over-time definitions as HyPyP, from
# Morlet wavelet analytic signals instead of FIR + Hilbert. Passing the same wavelet analytic
# signals (mne.time_frequency.tfr_array_morlet, as mne-connectivity computes them) to
# sync_from_analytic is the same computation: values agree to rounding. (Its multitaper mode
# averages cross-spectra over tapers before the metric and spectral_connectivity_epochs measures
# consistency across epochs, not time: those are different definitions, not compared.)
MNE_CONN = {"plv": "plv", "coh": "coh", "imcoh": "imcoh_signed", "pli": "pli", "wpli": "wpli"}


@pytest.mark.parametrize("method", sorted(MNE_CONN))
def test_matches_mne_connectivity_time(method):
    mne = pytest.importorskip("mne")
    mnec = pytest.importorskip("mne_connectivity")
    rng = np.random.default_rng(1)
    n_ep, n_ch, n_t, sfreq = 4, 3, 400, 200.0
    shared = rng.standard_normal((n_ep, 1, n_t))
    d = rng.standard_normal((n_ep, 2 * n_ch, n_t)) + shared
    freqs, n_cycles = np.array([8.0, 10.0]), 4
    seeds = np.repeat(np.arange(n_ch), n_ch)
    targets = np.tile(np.arange(n_ch, 2 * n_ch), n_ch)
    con = mnec.spectral_connectivity_time(
        d,
        freqs,
        method=method,
        indices=(seeds, targets),
        sfreq=sfreq,
        mode="cwt_morlet",
        n_cycles=n_cycles,
        faverage=False,
        average=False,
        verbose=False,
    )
    ref = con.get_data()  # (epochs, pairs, freqs)
    w = mne.time_frequency.tfr_array_morlet(
        d, sfreq, freqs, n_cycles=n_cycles, output="complex", zero_mean=False, verbose=False
    )
    ours = np.stack(
        [
            sync_from_analytic(w[:, :n_ch, f], w[:, n_ch:, f], MNE_CONN[method]).reshape(n_ep, -1)
            for f in range(len(freqs))
        ],
        axis=-1,
    )
    np.testing.assert_allclose(ours, ref, rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize(
    "n_t, kw",
    [
        (256, {}),  # filters longer than the epoch (one FFT segment, zero-padded reflection)
        (255, {}),
        (3000, {}),  # several overlap-add segments
        (2048, {"l_trans_bandwidth": 1, "filter_length": "4s"}),
        (300, {"pad": "reflect"}),
        (300, {"method": "iir"}),  # outside the default FIR method: MNE itself
    ],
)
def test_hypyp_filter_is_bitwise_hypyp(n_t, kw):
    """Bitwise, not just close: PLI takes the sign of values that are 0 up to rounding at the
    epoch edges when the FIR filter is longer than the epoch."""
    rng = np.random.default_rng(n_t)
    data = rng.standard_normal((2, 3, 4, n_t))
    bands = {"theta": (4.0, 8.0), "beta": (13.0, 30.0)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = hypyp_analyses.compute_freq_bands(data, 256.0, bands, **kw)
    for n_threads in (1, 2):
        ours = analytic_signal(
            data, 256.0, bands, filter_kwargs=kw, min_cycles=0, on_short="warn",
            n_threads=n_threads, verbose="error",
        )  # fmt: skip
        np.testing.assert_array_equal(ours, ref)
