"""Synchrony across epochs vs mne_connectivity.spectral_connectivity_epochs (same definitions)."""

from __future__ import annotations

import numpy as np
import pytest

from hyperalign.coupling import epoch_spectra, sync_across_epochs

mnec = pytest.importorskip("mne_connectivity")

METHODS = ["plv", "coh", "imcoh", "pli", "wpli"]


@pytest.fixture(scope="module")
def epochs():
    """Two 'participants' of 3 channels, 12 epochs; a 10 Hz component phase-locked across
    epochs with a fixed lag between S1 and S2, plus noise."""
    rng = np.random.default_rng(11)
    n_ep, n_ch, n_t, sfreq = 12, 3, 200, 100.0
    t = np.arange(n_t) / sfreq
    jitter = rng.uniform(-0.6, 0.6, (n_ep, 1, 1))
    s1 = np.sin(2 * np.pi * 10 * t + jitter) + rng.standard_normal((n_ep, n_ch, n_t))
    s2 = np.sin(2 * np.pi * 10 * t + jitter - 0.8) + rng.standard_normal((n_ep, n_ch, n_t))
    return np.concatenate([s1, s2], axis=1), n_ch, sfreq


def _indices(n_ch):
    return np.repeat(np.arange(n_ch), n_ch), np.tile(np.arange(n_ch, 2 * n_ch), n_ch)


@pytest.mark.parametrize("method", METHODS)
def test_fourier_matches_spectral_connectivity_epochs(epochs, method):
    d, n_ch, sfreq = epochs
    con = mnec.spectral_connectivity_epochs(
        d, method=method, mode="fourier", sfreq=sfreq, fmin=4.0, fmax=30.0,
        indices=_indices(n_ch), faverage=False, verbose=False,
    )  # fmt: skip
    ref = con.get_data()  # (pairs, freqs)
    coefs, freqs = epoch_spectra(d, sfreq, mode="fourier", fmin=4.0, fmax=30.0)
    np.testing.assert_allclose(freqs, con.freqs)
    con = sync_across_epochs(coefs[:, :n_ch], coefs[:, n_ch:], f"mne:{method}", freqs=freqs)
    ours = con.get_data()[0, 0, :, 0]  # (F, C, C)
    ours = ours.reshape(len(freqs), -1).T
    np.testing.assert_allclose(ours, ref, rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize("method", METHODS)
def test_morlet_matches_spectral_connectivity_epochs(epochs, method):
    d, n_ch, sfreq = epochs
    freqs = np.array([8.0, 10.0, 14.0])
    con = mnec.spectral_connectivity_epochs(
        d, method=method, mode="cwt_morlet", sfreq=sfreq, cwt_freqs=freqs, cwt_n_cycles=4,
        indices=_indices(n_ch), faverage=False, verbose=False,
    )  # fmt: skip
    ref = con.get_data()  # (pairs, freqs, times)
    coefs, _ = epoch_spectra(d, sfreq, mode="cwt_morlet", freqs=freqs, n_cycles=4)
    con = sync_across_epochs(coefs[:, :n_ch], coefs[:, n_ch:], f"mne:{method}", freqs=freqs)
    ours = np.moveaxis(con.get_data()[0, 0, :, 0], -1, 1)  # (F, T, C, C)
    ours = np.moveaxis(ours.reshape(*ours.shape[:2], -1), -1, 0)
    np.testing.assert_allclose(ours, ref, rtol=1e-6, atol=1e-12)


def test_planted_phase_locking_found_at_its_frequency(epochs):
    d, n_ch, sfreq = epochs
    coefs, freqs = epoch_spectra(d, sfreq, fmin=4.0, fmax=30.0)
    con = sync_across_epochs(coefs[:, :n_ch], coefs[:, n_ch:], "plv", freqs=freqs)
    plv = con.mean(["node_in", "node_out"]).get_data()[0, 0, :, 0, 0, 0]
    assert freqs[np.argmax(plv)] == pytest.approx(10.0)
    assert plv[freqs == 10.0][0] > 0.8 and np.median(plv) < 0.5


def test_errors(epochs):
    d, n_ch, sfreq = epochs
    with pytest.raises(ValueError, match="needs freqs"):
        epoch_spectra(d, sfreq, mode="cwt_morlet")
    with pytest.raises(ValueError, match="longer than the epochs"):
        epoch_spectra(d, sfreq, mode="cwt_morlet", freqs=[1.0], n_cycles=7)
    with pytest.raises(ValueError, match="no FFT bin"):
        epoch_spectra(d, sfreq, fmin=10.1, fmax=10.2)
    with pytest.raises(ValueError, match="n_epochs, n_channels, n_times"):
        epoch_spectra(d[0], sfreq)
    coefs, _ = epoch_spectra(d, sfreq)
    with pytest.raises(ValueError, match="at least 2 epochs"):
        sync_across_epochs(coefs[:1, :n_ch], coefs[:1, n_ch:], "plv")
    with pytest.raises(ValueError, match="same epochs"):
        sync_across_epochs(coefs[:, :n_ch], coefs[:-1, n_ch:], "plv")
    with pytest.raises(ValueError, match="unknown mne-connectivity method"):
        sync_across_epochs(coefs[:, :n_ch], coefs[:, n_ch:], "mne:ppc")


def test_coupling_labels_and_time_resolved(epochs):
    d, n_ch, sfreq = epochs
    coefs, freqs = epoch_spectra(d, sfreq, fmin=8.0, fmax=12.0)
    con = sync_across_epochs(coefs[:, :n_ch], coefs[:, n_ch:], "mne:imcoh", freqs=freqs)
    assert con.xarray.dims == ("metric", "epochs", "freqs", "lags", "node_in", "node_out")
    assert con.metrics == ["imcoh_signed"] and con.attrs["method"] == "mne:imcoh"
    assert con.xarray["epochs"].values.tolist() == [-1]
    assert con.attrs["n_epochs_averaged"] == 12
    np.testing.assert_array_equal(con.xarray["freqs"].values, freqs)
    np.testing.assert_array_equal(con.xarray["fmin"].values, freqs)
    assert con.node_in == ["ch1_S1", "ch2_S1", "ch3_S1"] and con.node_out[2] == "ch3_S2"
    assert con.sel(freqs=10.0).get_data().shape == (1, 1, 1, 1, n_ch, n_ch)
    df = con.to_data_frame()
    assert len(df) == len(freqs) * n_ch * n_ch and "time" not in df
    # Morlet: a times dim, labelled by the epochs' times
    wf = np.array([8.0, 10.0])
    cw, _ = epoch_spectra(d, sfreq, mode="cwt_morlet", freqs=wf, n_cycles=4)
    times = np.arange(d.shape[-1]) / sfreq
    tc = sync_across_epochs(cw[:, :n_ch], cw[:, n_ch:], "plv", freqs=wf, times=times,
                            ch_names=["Fz", "Cz", "Pz"])  # fmt: skip
    assert tc.xarray.dims[-1] == "times" and tc.node_in[0] == "Fz_S1"
    np.testing.assert_array_equal(tc.times, times)
    assert tc.get_data().shape == (1, 1, 2, 1, n_ch, n_ch, d.shape[-1])
    assert tc.mean("times").get_data().shape[-1] == 1
    assert "time" in tc.to_data_frame() and "x 200 times" in repr(tc)


def test_coupling_save_read_time_resolved(epochs, tmp_path):
    from hyperalign.coupling import read_coupling

    d, n_ch, sfreq = epochs
    cw, wf = epoch_spectra(d, sfreq, mode="cwt_morlet", freqs=[10.0], n_cycles=4)
    tc = sync_across_epochs(cw[:, :n_ch], cw[:, n_ch:], "wpli", freqs=wf)
    assert read_coupling(tc.save(tmp_path / "tc.nc")) == tc


def test_deprecated_array_return(epochs):
    d, n_ch, sfreq = epochs
    cw, wf = epoch_spectra(d, sfreq, mode="cwt_morlet", freqs=[8.0, 10.0], n_cycles=4)
    con = sync_across_epochs(cw[:, :n_ch], cw[:, n_ch:], "plv", freqs=wf)
    with pytest.warns(FutureWarning, match="return_type='array'.*deprecated"):
        arr = sync_across_epochs(cw[:, :n_ch], cw[:, n_ch:], "plv", return_type="array")
    assert arr.shape == (2, d.shape[-1], n_ch, n_ch)  # (F, T, C1, C2) as before
    np.testing.assert_array_equal(np.moveaxis(arr, 1, -1), con.get_data()[0, 0, :, 0])


def test_coupling_errors(epochs):
    d, n_ch, sfreq = epochs
    coefs, freqs = epoch_spectra(d, sfreq, fmin=8.0, fmax=12.0)
    with pytest.raises(ValueError, match="one frequency .* per coefficient"):
        sync_across_epochs(coefs[:, :n_ch], coefs[:, n_ch:], "plv", freqs=freqs[:-1])
    with pytest.raises(ValueError, match="times applies to time-resolved"):
        sync_across_epochs(coefs[:, :n_ch], coefs[:, n_ch:], "plv", times=[0.0])
    extra = coefs[..., None, None]  # (E, C, F, 1, 1): three trailing axes
    with pytest.raises(ValueError, match="at most 2.*return_type='array'"):
        sync_across_epochs(extra[:, :n_ch], extra[:, n_ch:], "plv")
    with pytest.raises(ValueError, match="return_type"):
        sync_across_epochs(coefs[:, :n_ch], coefs[:, n_ch:], "plv", return_type="xarray")
