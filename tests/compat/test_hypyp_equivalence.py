"""hyperalign.compat.hypyp against HyPyP 0.6.2 called directly, function by function.

Simulated data (small, everywhere) and the real EEG pair in ../shared/data (skipped when
absent). Tolerances: the algorithms are the same, so every value agrees to 1e-10 or better
(measured: <= 3e-15 on analytic signals, synchrony, multitaper, PSD, MVAR, nmPLV).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from hyperalign.compat import hypyp as ours

H = pytest.importorskip("hypyp.analyses")

TOL = 1e-10
BANDS = {"theta": [4, 8], "alpha": [8, 12]}
MODES = ["plv", "ccorr", "accorr", "coh", "imaginary_coh", "imcoh", "pli", "wpli",
         "envelope_corr", "envcorr", "pow_corr", "powcorr"]  # fmt: skip


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


def _same(a, b, tol=TOL):
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape, (a.shape, b.shape)
    np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
    diff = np.abs(np.where(np.isnan(a), 0, a) - np.where(np.isnan(b), 0, b))
    assert diff.max(initial=0) <= tol * max(1.0, np.nanmax(np.abs(a), initial=0)), diff.max()


@pytest.fixture(scope="module")
def sim():
    """Two participants, 5 epochs x 4 channels x 256 samples at 128 Hz, shared 6/10 Hz drive;
    channel 2 of S1 is flat in epoch 1."""
    rng = np.random.default_rng(7)
    t = np.arange(256) / 128.0
    drive = np.sin(2 * np.pi * 6 * t + rng.uniform(0, 6, (5, 1, 1))) + 0.5 * np.sin(
        2 * np.pi * 10 * t + rng.uniform(0, 6, (5, 1, 1))
    )
    data = np.stack(
        [
            drive + rng.standard_normal((5, 4, 256)),
            np.roll(drive, 4, -1) + rng.standard_normal((5, 4, 256)),
        ]
    )
    data[0, 1, 2] = 0.0
    return data, 128.0


@pytest.fixture(scope="module")
def real(shared_data):
    import mne

    folder = shared_data / "eeg-hypyp-pair"
    e1 = mne.read_epochs(folder / "S1-epo.fif", preload=True, verbose=False)
    e2 = mne.read_epochs(folder / "S2-epo.fif", preload=True, verbose=False)
    return e1, e2


@pytest.fixture(scope="module")
def real_small(real):
    e1, e2 = real
    picks = e1.ch_names[:6]
    data = np.array([e1.get_data(picks=picks)[:6], e2.get_data(picks=picks)[:6]])
    return data, e1.info["sfreq"]


# ------------------------------------------------------------------------------------------
def test_compute_freq_bands(sim, real_small):
    for data, sfreq in (sim, real_small):
        # both warn (MNE) that the filter is longer than the real pair's 1-s epochs
        _same(
            _quiet(ours.compute_freq_bands, data, sfreq, BANDS),
            _quiet(H.compute_freq_bands, data, sfreq, BANDS),
        )
        kw = dict(l_trans_bandwidth=2.0, h_trans_bandwidth=3.0, fir_window="hann")
        _same(
            _quiet(ours.compute_freq_bands, data, sfreq, BANDS, **kw),
            _quiet(H.compute_freq_bands, data, sfreq, BANDS, **kw),
        )


def test_compute_freq_bands_without_filter(sim):
    data, sfreq = sim
    z = ours.compute_freq_bands(data, sfreq, BANDS, filter_signal=False)
    assert z.shape == (2, 5, 4, 2, 256)
    _same(z, H.compute_freq_bands(data, sfreq, BANDS, filter_signal=False), 0)
    np.testing.assert_array_equal(z[..., 0, :], z[..., 1, :])  # same signal in every band


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("average", [True, False])
def test_compute_sync_sim(sim, mode, average):
    data, sfreq = sim
    z = H.compute_freq_bands(data, sfreq, BANDS)
    ref = _quiet(H.compute_sync, z, mode, epochs_average=average)
    _same(_quiet(ours.compute_sync, z, mode, epochs_average=average), ref)


@pytest.mark.parametrize("mode", ["plv", "ccorr", "accorr", "coh", "imcoh", "pli", "wpli",
                                  "envcorr", "powcorr"])  # fmt: skip
def test_compute_sync_real(real_small, mode):
    data, sfreq = real_small
    z = _quiet(H.compute_freq_bands, data, sfreq, BANDS)
    _same(ours.compute_sync(z, mode, epochs_average=False), _quiet(H.compute_sync, z, mode, False))


def test_nan_policy_matches_hypyp(sim):
    """One flat channel in one epoch: NaN in that epoch's rows/columns, none after the
    (nan-)average, exactly where HyPyP has them."""
    data, sfreq = sim
    z = H.compute_freq_bands(data, sfreq, BANDS)
    per_epoch = ours.compute_sync(z, "plv", epochs_average=False)
    assert np.isnan(per_epoch[:, 1, 2]).all() and np.isnan(per_epoch[:, 1, :, 2]).all()
    assert np.isnan(per_epoch).sum() == 2 * 15  # 2 bands x (2 x 8 - 1) cells
    assert not np.isnan(per_epoch[:, [0, 2, 3, 4]]).any()
    avg = ours.compute_sync(z, "plv")
    assert not np.isnan(avg).any()
    np.testing.assert_allclose(avg, np.nanmean(per_epoch, axis=1))


def test_compute_sync_errors_match_hypyp(sim):
    data, sfreq = sim
    z = ours.compute_freq_bands(data, sfreq, BANDS)
    for fn in (H.compute_sync, ours.compute_sync):
        with pytest.raises(ValueError, match='Metric type "nope" not supported.'):
            fn(z, "nope")
        with pytest.raises(ValueError, match="Unknown optimization 'bogus'"):
            fn(z, "plv", optimization="bogus")
        with pytest.raises(IndexError):
            fn(z[..., 0, :], "plv")


def test_optimization_backends(sim):
    data, sfreq = sim
    z = ours.compute_freq_bands(data, sfreq, BANDS)
    ref = ours.compute_sync(z, "wpli", epochs_average=False)
    _same(_quiet(ours.compute_sync, z, "wpli", False, optimization="numba"), ref)
    pytest.importorskip("torch")
    with pytest.warns(UserWarning, match="No GPU found|GPU"):
        got = ours.compute_sync(z, "wpli", False, optimization="torch")
    _same(got, ref)
    with pytest.warns(UserWarning, match="No GPU available"):
        ours.compute_sync(z, "plv", optimization="auto")


def test_pair_connectivity(sim, real_small):
    for data, sfreq in (sim, real_small):
        for freqs in (BANDS, [8, 11]):
            for average in (True, False):
                ref = _quiet(H.pair_connectivity, data, sfreq, freqs, "ccorr", average)
                _same(_quiet(ours.pair_connectivity, data, sfreq, freqs, "ccorr", average), ref)


def test_pair_connectivity_errors(sim):
    data, sfreq = sim
    for fn in (H.pair_connectivity, ours.pair_connectivity):
        with pytest.raises(TypeError, match="Please use a list or a dictionary"):
            fn(data, sfreq, (8, 12), "plv")
        with pytest.raises(AssertionError, match="same lengths"):
            fn([data[0], data[1][:3]], sfreq, BANDS, "plv")
    with pytest.raises(AssertionError, match="same number of trials"):
        ours.compute_freq_bands([data[0], data[1][:3]], sfreq, BANDS)


def test_compute_single_freq(sim, real_small):
    for data, sfreq in (sim, real_small):
        ref = _quiet(H.compute_single_freq, data, sfreq, [8, 11])
        got = ours.compute_single_freq(data, sfreq, [8, 11])
        assert got.shape == (2, data.shape[1], data.shape[2], ref.shape[3], 3, data.shape[3])
        _same(got, ref)


def test_compute_nmPLV(sim, real_small):
    for data, sfreq in (sim, real_small):
        ref = _quiet(H.compute_nmPLV, data, sfreq, [4, 8], [10, 14])
        _same(_quiet(ours.compute_nmPLV, data, sfreq, [4, 8], [10, 14], bug_compat=True), ref)
        fixed = _quiet(ours.compute_nmPLV, data, sfreq, [4, 8], [10, 14])
        assert fixed.shape == (10, 2 * data.shape[2], 2 * data.shape[2])  # (n_freq, 2C, 2C)


def test_compute_nmPLV_definition(sim):
    """The fixed nmPLV: S1 phases ** n, S2 phases ** m (here 2:1), PLV, epochs averaged."""
    data, sfreq = sim
    data = data[:, [0, 2, 3, 4]]  # no flat channel
    z = np.mean(ours.compute_single_freq(data, sfreq, [4, 14]), 3)
    u = z / np.abs(z)
    u1, u2 = u[0] ** 2, u[1] ** 1  # (E, C, F, T)
    both = np.concatenate([u1, u2], axis=1)
    expected = np.abs(np.einsum("ecft,edft->fecd", both, both.conj())) / z.shape[-1]
    _same(ours.compute_nmPLV(data, sfreq, [4, 8], [10, 14]), expected.mean(axis=1))


@pytest.mark.parametrize("name", ["PDC", "DTF", "mvar_spectral", "mvar_tf"])
def test_compute_conn_mvar(name):
    rng = np.random.default_rng(3)
    data = rng.standard_normal((2, 1, 2, 300))
    z = H.compute_freq_bands(data, 128.0, {"alpha": [8, 12]})
    kw = dict(
        mvar_params={"mvar_order": 2, "fitting_method": "default", "delta": 0},
        ica_params={"method": "infomax_extended", "random_state": 0},
        measure_params={"name": name, "n_fft": 16},
        check_stability=False,
    )
    ref = _quiet(H.compute_conn_mvar, z, **kw)
    got = _quiet(ours.compute_conn_mvar, z, **kw)
    assert got.dtype == ref.dtype
    _same(got, ref)


def test_compute_conn_mvar_stability_is_not_interactive():
    rng = np.random.default_rng(3)
    z = _quiet(ours.compute_freq_bands, rng.standard_normal((2, 3, 2, 300)), 128.0, {"a": [8, 12]})
    kw = dict(
        mvar_params={"mvar_order": 2, "fitting_method": "default", "delta": 0},
        ica_params={"method": "fastica", "random_state": 0},
        measure_params={"name": "PDC", "n_fft": 8},
    )
    out = _quiet(ours.compute_conn_mvar, z, **kw)  # HyPyP would prompt with input()
    assert out.shape == (3, 1, 4, 4, 8)
    assert np.isfinite(out).all() and (out >= 0).all() and (out <= 1 + 1e-12).all()
    short = _quiet(
        ours.compute_freq_bands, rng.standard_normal((2, 2, 2, 40)), 128.0, {"a": [8, 12]}
    )
    big = dict(kw, mvar_params={"mvar_order": 9, "fitting_method": "default", "delta": 0})
    with pytest.raises(ValueError, match="not stable.*on_unstable='merge'"):
        _quiet(ours.compute_conn_mvar, short, **big)
    with pytest.raises(KeyError, match="measure_params must have the keys"):
        ours.compute_conn_mvar(z, kw["mvar_params"], kw["ica_params"], {"name": "PDC"})
    with pytest.raises(ValueError, match="measure_params\\['name'\\] must be one of"):
        _quiet(ours.compute_conn_mvar, z, **dict(kw, measure_params={"name": "x", "n_fft": 8}))


def test_mvar_ridge_fixed_and_bug_compat():
    from hyperalign.compat._hypyp_mvar import MVAR

    x = np.random.default_rng(0).standard_normal((1, 3, 200))
    assert MVAR(2, "default", 0.5).fit(x).coeff.shape == (3, 6)
    with pytest.raises(TypeError, match="construct_equation"):
        MVAR(2, "default", 0.5, bug_compat=True).fit(x)


def test_pow(real):
    e1, _ = real
    ep = e1.copy().pick(e1.ch_names[:5])[:4]
    for average in (True, False):
        ref = H.pow(ep.copy(), 8, 13, n_fft=256, n_per_seg=None, epochs_average=average)
        got = ours.pow(ep, 8, 13, n_fft=256, n_per_seg=None, epochs_average=average)
        _same(got.freq_list, ref.freq_list, 0)
        _same(got.psd, ref.psd)


def test_pow_eog_left_out_without_mutating(real):
    e1, _ = real
    ep = e1.copy().pick(e1.ch_names[:4])[:3]
    ep.set_channel_types({ep.ch_names[0]: "eog"})
    got = ours.pow(ep, 8, 13, n_fft=256, n_per_seg=None, epochs_average=True)
    assert got.psd.shape[0] == 3 and len(ep.ch_names) == 4  # caller's epochs untouched
    ours.pow(ep, 8, 13, n_fft=256, n_per_seg=None, epochs_average=True, bug_compat=True)
    assert len(ep.ch_names) == 3  # HyPyP's in-place drop
    with pytest.raises(TypeError, match="epochs must be an mne.Epochs"):
        ours.pow(np.zeros((2, 2, 2)), 8, 13, 256, None, True)


def test_behav_corr_vector():
    rng = np.random.default_rng(1)
    behav = rng.standard_normal(20)
    for data in (behav * 0.5 + rng.standard_normal(20), np.exp(rng.standard_normal(20))):
        ref = H.behav_corr(data, behav, "d", "b", 0.05, multiple_corr=False)
        got = ours.behav_corr(data, behav, "d", "b", 0.05, multiple_corr=False)
        assert got.strat == ref.strat
        assert got.r == pytest.approx(ref.r, abs=TOL) and got.pvalue == pytest.approx(ref.pvalue)


@pytest.mark.parametrize("multiple_corr", [True, False])
def test_behav_corr_connectivity(multiple_corr):
    rng = np.random.default_rng(2)
    behav = rng.standard_normal(12)
    data = rng.standard_normal((12, 5, 5)) + behav[:, None, None] * rng.uniform(0, 2, (5, 5))
    ref = _quiet(H.behav_corr, data, behav, "c", "b", 0.05, multiple_corr=multiple_corr)
    got = ours.behav_corr(data, behav, "c", "b", 0.05, multiple_corr=multiple_corr)
    _same(got.r, ref.r)
    _same(got.pvalue, ref.pvalue)
    assert got.strat == ref.strat


def test_behav_corr_permutations_and_errors():
    rng = np.random.default_rng(4)
    behav = rng.standard_normal(15)
    data = rng.standard_normal((15, 3, 3))
    data[:, 0, 1] += 3 * behav
    res = ours.behav_corr(data, behav, "c", "b", 0.05, multiple_corr=False,
                          n_permutations=199, random_state=0)  # fmt: skip
    again = ours.behav_corr(data, behav, "c", "b", 0.05, multiple_corr=False,
                            n_permutations=199, random_state=0)  # fmt: skip
    np.testing.assert_array_equal(res.pvalue, again.pvalue)
    assert res.pvalue[0, 1] == pytest.approx(1 / 200)
    assert res.r[0, 1] > 0.8 and "199 permutations" in res.strat
    assert ((res.pvalue >= 1 / 200) & (res.pvalue <= 1)).all()
    with pytest.raises(ValueError, match="must have the shape of behav"):
        ours.behav_corr(data[:, 0], behav, "c", "b", 0.05)
    assert ours.behav_corr(data[:, 0], behav, "c", "b", 0.05, bug_compat=True) is None
    with pytest.raises(ValueError, match="15 observations but behav has 14"):
        ours.behav_corr(data, behav[:14], "c", "b", 0.05)


def test_fdr_bh_matches_statsmodels():
    from statsmodels.stats.multitest import multipletests

    from hyperalign.compat._hypyp_stats import fdr_bh

    p = np.random.default_rng(5).uniform(0, 0.2, 50)
    np.testing.assert_allclose(fdr_bh(p), multipletests(p, method="fdr_bh")[1], rtol=1e-12)


def test_indices(real):
    import mne
    from hypyp import utils

    e1, e2 = real
    assert ours.indices_connectivity_intrabrain(e1) == H.indices_connectivity_intrabrain(e1)
    merged = utils.merge(e1[:2], e2[:2])
    assert ours.indices_connectivity_interbrain(merged) == H.indices_connectivity_interbrain(
        merged
    )
    info = mne.create_info(["a", "b", "eog", "c"], 100.0, ["eeg", "eeg", "eog", "eeg"])
    ep = mne.EpochsArray(np.zeros((1, 4, 10)), info, verbose=False)
    assert ours.indices_connectivity_intrabrain(ep) == H.indices_connectivity_intrabrain(ep)
    assert ours.indices_connectivity_intrabrain(ep) == [(0, 1), (0, 2), (1, 2)]


def test_metric_classes(sim):
    from hyperalign.compat import _hypyp_sync as cls

    data, sfreq = sim
    z = ours.compute_freq_bands(data, sfreq, BANDS)
    internal = z.transpose((1, 3, 0, 2, 4)).reshape(5, 2, 8, 256)
    got = cls.get_metric("envelope_corr").compute(internal, 256, (0, 1, 3, 2))
    _same(got.swapaxes(0, 1), ours.compute_sync(z, "envcorr", epochs_average=False))
    with pytest.raises(ValueError, match="Unknown metric mode 'x'"):
        cls.get_metric("x")


def test_compute_conn_mvar_real(real_small):
    data, sfreq = real_small
    z = _quiet(H.compute_freq_bands, data[:, :1, :2], sfreq, {"alpha": [8, 12]})
    kw = dict(
        mvar_params={"mvar_order": 3, "fitting_method": "default", "delta": 0},
        ica_params={"method": "fastica", "random_state": 0},
        measure_params={"name": "DTF", "n_fft": 32},
        check_stability=False,
    )
    _same(_quiet(ours.compute_conn_mvar, z, **kw), _quiet(H.compute_conn_mvar, z, **kw))


def test_pow_simulated(sim):
    import mne

    data, sfreq = sim
    info = mne.create_info([f"c{i}" for i in range(4)], sfreq, "eeg")
    ep = mne.EpochsArray(data[1], info, verbose=False)
    for average in (True, False):
        ref = H.pow(ep.copy(), 4, 20, n_fft=128, n_per_seg=64, epochs_average=average)
        got = ours.pow(ep, 4, 20, n_fft=128, n_per_seg=64, epochs_average=average)
        _same(got.freq_list, ref.freq_list, 0)
        _same(got.psd, ref.psd)


def test_behav_corr_real(real_small):
    """Per-epoch ccorr matrices of the real pair as 6 'dyads', correlated with a score."""
    data, sfreq = real_small
    con = _quiet(H.pair_connectivity, data, sfreq, {"alpha": [8, 12]}, "ccorr", False)[0]
    behav = np.array([0.3, 1.2, -0.5, 2.0, 0.1, 0.9])
    for multiple_corr in (True, False):
        ref = _quiet(H.behav_corr, con, behav, "c", "b", 0.2, multiple_corr=multiple_corr)
        got = _quiet(ours.behav_corr, con, behav, "c", "b", 0.2, multiple_corr=multiple_corr)
        _same(got.r, ref.r)
        _same(got.pvalue, ref.pvalue)
