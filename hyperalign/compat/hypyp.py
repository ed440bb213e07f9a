"""HyPyP 0.6.2's analysis API, computed by hyperalign's engine (a drop-in).

Replace ``from hypyp import analyses`` by ``from hyperalign.compat import hypyp as analyses``
and the calls below keep HyPyP's signatures, argument order, output shapes, NaN handling and
error types; the values come from :mod:`hyperalign.coupling` (the band-pass and analytic
signal of :func:`hyperalign.coupling.analytic_signal`, bitwise MNE's FIR filter, and the
metric kernels of :func:`hyperalign.coupling.sync_from_analytic`), MNE (multitaper TFR, Welch
PSD, infomax) and SciPy. HyPyP is never imported here; it is only the reference the tests
compare against (``tests/compat``: HyPyP's own test suite and equivalence tests).

=============================  =============================================================
HyPyP (``hypyp.analyses``)     here
=============================  =============================================================
``compute_freq_bands``         :func:`compute_freq_bands` (also ``filter_signal=False``)
``compute_single_freq``        :func:`compute_single_freq` (MNE multitaper, as HyPyP)
``compute_sync``               :func:`compute_sync` (5-D analytic signal, ``epochs_average``,
                               ``optimization``)
``pair_connectivity``          :func:`pair_connectivity` (band dict or frequency list)
``compute_nmPLV``              :func:`compute_nmPLV`
``compute_conn_mvar``          :func:`compute_conn_mvar` (MVAR + ICA: PDC, DTF, ...)
``pow``                        :func:`pow` (Welch PSD per epoch)
``behav_corr``                 :func:`behav_corr` (plus optional permutation p-values)
``indices_connectivity_*``     :func:`indices_connectivity_intrabrain`,
                               :func:`indices_connectivity_interbrain`
=============================  =============================================================

NaN policy: as HyPyP, per-epoch values are NaN where a channel is flat in an epoch (0/0
phases; PLI and wPLI give HyPyP's 0 there) and ``epochs_average=True`` averages with
:func:`numpy.nanmean`, so one flat channel in one epoch gives no NaN after averaging.
(hyperalign's native :meth:`Coupling.mean <hyperalign.coupling.Coupling.mean>` makes that
choice explicit with ``skipna``.)

HyPyP bugs: where HyPyP 0.6.2 misbehaves, the default here is the corrected behaviour and the
keyword-only ``bug_compat=True`` reproduces HyPyP's; each function's Notes say what differs.
On every well-formed input the two agree.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ._hypyp_core import (
    HYPYP_MODES,
    OPTIMIZATIONS,
    _check_5d,
    _resolve_optimization,
    _sync_per_freq,
)
from ._hypyp_mvar import compute_conn_mvar
from ._hypyp_stats import (
    behav_corr,
    indices_connectivity_interbrain,
    indices_connectivity_intrabrain,
    pow,
)

__all__ = [
    "behav_corr",
    "compute_conn_mvar",
    "compute_freq_bands",
    "compute_nmPLV",
    "compute_single_freq",
    "compute_sync",
    "indices_connectivity_interbrain",
    "indices_connectivity_intrabrain",
    "pair_connectivity",
    "pow",
    "HYPYP_MODES",
    "OPTIMIZATIONS",
]


# ------------------------------------------------------------------------------------------
# analytic signals
# ------------------------------------------------------------------------------------------
def compute_freq_bands(
    data,
    sampling_rate: float,
    freq_bands: dict,
    filter_signal: bool = True,
    **filter_options: Any,
) -> np.ndarray:
    """Analytic signal of each frequency band (FIR band-pass + Hilbert), HyPyP's layout.

    Parameters
    ----------
    data : array, shape (2, n_epochs, n_channels, n_times)
        The two participants' epochs (or a pair of arrays / :class:`mne.Epochs`).
    sampling_rate : float
        Sampling frequency in Hz.
    freq_bands : dict
        ``{'band_name': [fmin, fmax], ...}``; the output keeps the dict order.
    filter_signal : bool
        Band-pass before the Hilbert transform (default). ``False``: the Hilbert transform of
        the unfiltered signals, repeated once per band (HyPyP's behaviour).
    **filter_options
        Passed to :func:`mne.filter.filter_data` (``filter_length``, ``l_trans_bandwidth``,
        ``h_trans_bandwidth``, ...), as HyPyP does.

    Returns
    -------
    complex_signal : ndarray of complex, shape (2, n_epochs, n_channels, n_bands, n_times)
        The analytic signal of each participant, epoch, channel and band.

    Raises
    ------
    AssertionError
        When the two participants have different numbers of epochs (as HyPyP).

    See Also
    --------
    hyperalign.coupling.analytic_signal : The engine (bitwise equal to MNE's FIR filter).
    compute_sync : Metrics from this array.

    Notes
    -----
    The values equal ``hypyp.analyses.compute_freq_bands`` (the FIR filter is MNE's, applied by
    MNE's overlap-add algorithm to all rows at once). Epochs shorter than the filter are
    filtered anyway, with a logged warning, as MNE does.
    """
    from ..coupling.spectral import analytic_signal, fir_length

    assert data[0].shape[0] == data[1].shape[0], (
        "Two data streams should have the same number of trials."
    )
    data = np.array(data)
    if not isinstance(freq_bands, dict):
        raise TypeError(
            "freq_bands must be a dict {'band_name': [fmin, fmax], ...}; got "
            f"{type(freq_bands).__name__}"
        )
    if not filter_signal:
        from scipy.signal import hilbert

        hilb = hilbert(data)
        return np.repeat(hilb[..., np.newaxis, :], len(freq_bands), axis=-2)
    bands = {str(k): tuple(v) for k, v in freq_bands.items()}
    for lo, hi in bands.values():  # MNE's warning, as HyPyP users see it
        n_taps = fir_length(sampling_rate, lo, hi, **filter_options)
        if n_taps > data.shape[-1]:
            warnings.warn(
                f"filter_length ({n_taps}) is longer than the signal ({data.shape[-1]}), "
                "distortion is likely. Reduce filter length or filter a longer signal.",
                RuntimeWarning,
                2,
            )
    return analytic_signal(
        data,
        sampling_rate,
        bands,
        filter_method="hypyp",
        filter_kwargs=filter_options,
        min_cycles=0,
        on_short="warn",
        verbose="error",
    )


def compute_single_freq(data, sampling_rate: float, freq_range) -> np.ndarray:
    """Complex multitaper time-frequency signals at every integer frequency in a range.

    Parameters
    ----------
    data : array, shape (2, n_epochs, n_channels, n_times)
        The two participants' epochs.
    sampling_rate : float
        Sampling frequency in Hz.
    freq_range : [fmin, fmax]
        Frequencies ``np.arange(fmin, fmax, 1)`` (``fmax`` excluded, as HyPyP).

    Returns
    -------
    complex_signal : ndarray, shape (2, n_epochs, n_channels, n_tapers, n_freqs, n_times)
        The complex time-frequency transform of each participant, epoch, channel, taper and
        frequency.

    See Also
    --------
    pair_connectivity : With a frequency list, averages the tapers and computes a metric.

    Notes
    -----
    :func:`mne.time_frequency.tfr_array_multitaper` with HyPyP's settings (4 cycles, no
    zero-mean, FFT convolution, no decimation), participant by participant: the values are
    HyPyP's.
    """
    from mne.time_frequency import tfr_array_multitaper

    freqs = np.arange(freq_range[0], freq_range[1], 1)
    return np.array(
        [
            tfr_array_multitaper(
                np.asarray(data[participant]),
                sfreq=sampling_rate,
                freqs=freqs,
                n_cycles=4,
                zero_mean=False,
                use_fft=True,
                decim=1,
                output="complex",
                verbose=False,
            )
            for participant in range(2)
        ]
    )


# ------------------------------------------------------------------------------------------
# synchrony
# ------------------------------------------------------------------------------------------
def compute_sync(
    complex_signal,
    mode: str,
    epochs_average: bool = True,
    optimization: str | None = None,
    priority: list | None = None,
) -> np.ndarray:
    """Synchrony between every pair of the 2 x n_channels signals, per frequency (HyPyP).

    Parameters
    ----------
    complex_signal : ndarray of complex, shape (2, n_epochs, n_channels, n_freq, n_times)
        Analytic signals (:func:`compute_freq_bands`, or tapers averaged from
        :func:`compute_single_freq`).
    mode : str
        ``'plv'``, ``'ccorr'``, ``'accorr'``, ``'coh'``, ``'imaginary_coh'``/``'imcoh'``,
        ``'pli'``, ``'wpli'``, ``'envelope_corr'``/``'envcorr'``, ``'pow_corr'``/``'powcorr'``
        (case-insensitive).
    epochs_average : bool
        Average over epochs with :func:`numpy.nanmean` (NaN epochs ignored, as HyPyP).
    optimization : None | 'auto' | 'numba' | 'torch' | 'metal' | 'cuda_kernel'
        HyPyP's backend choice, mapped to hyperalign's: ``None`` NumPy; ``'numba'`` the compiled
        loops; ``'torch'`` the torch backend (GPU when available, else CPU with a warning);
        ``'auto'`` torch on a GPU, else NumPy with HyPyP's warning; ``'metal'`` and
        ``'cuda_kernel'`` fall back (warning) to torch-on-CUDA or NumPy.
    priority : list of str | None
        Accepted for HyPyP compatibility (backend order for ``'auto'``); not used.

    Returns
    -------
    con : ndarray
        ``(n_freq, 2 n_channels, 2 n_channels)`` with ``epochs_average``, else
        ``(n_freq, n_epochs, 2 n_channels, 2 n_channels)``; S1 channels first.

    Raises
    ------
    ValueError
        ``'Metric type "<mode>" not supported.'`` for an unknown mode; an unknown
        ``optimization`` raises a ValueError naming it (as HyPyP).
    IndexError
        ``complex_signal`` is not 5-D (HyPyP fails with the same type).

    See Also
    --------
    hyperalign.coupling.sync_from_analytic : The metric kernels.
    hyperalign.coupling.compute_sync : The native API (raw epochs, labelled result).

    Examples
    --------
    Two participants, 3 epochs, 4 channels, one band: noisy copies of one 10 Hz phase.

    >>> import numpy as np
    >>> from hyperalign.compat import hypyp
    >>> rng = np.random.default_rng(0)
    >>> phase = 2 * np.pi * 10 * np.arange(200) / 100
    >>> cs = np.exp(1j * (phase + 0.3 * rng.standard_normal((2, 3, 4, 1, 200))))
    >>> con = hypyp.compute_sync(cs, "plv")
    >>> con.shape  # (n_freq, 2 n_channels, 2 n_channels), S1 channels first
    (1, 8, 8)
    >>> round(float(con[0, 0, 4]), 2)  # S1 channel 0 with S2 channel 0
    0.92
    """
    cs = _check_5d(complex_signal)
    if not isinstance(mode, str):
        raise TypeError(f"mode must be a string; got {type(mode).__name__}")
    metric = HYPYP_MODES.get(mode.lower())
    if metric is None:
        raise ValueError(f'Metric type "{mode}" not supported.')
    backend, device, use_numba = _resolve_optimization(optimization, priority, mode.lower())
    _, n_epoch, n_ch, n_freq, n_samp = cs.shape
    values = cs.transpose((1, 3, 0, 2, 4)).reshape(n_epoch, n_freq, 2 * n_ch, n_samp)
    con = _sync_per_freq(values, metric, backend, device, use_numba)
    if epochs_average:
        con = np.nanmean(con, axis=1)
    return con


def pair_connectivity(
    data,
    sampling_rate: float,
    frequencies,
    mode: str,
    epochs_average: bool = True,
) -> np.ndarray:
    """Analytic signals then synchrony for two participants' epochs (HyPyP).

    Parameters
    ----------
    data : array, shape (2, n_epochs, n_channels, n_times)
        The two participants' epochs.
    sampling_rate : float
        Sampling frequency in Hz.
    frequencies : dict | list
        A dict ``{'band': [fmin, fmax]}`` (FIR band-pass + Hilbert, :func:`compute_freq_bands`)
        or a list ``[fmin, fmax]`` (multitaper at each integer frequency in ``[fmin, fmax)``,
        tapers averaged, :func:`compute_single_freq`).
    mode : str
        Metric (see :func:`compute_sync`).
    epochs_average : bool
        Average over epochs (NaN ignored).

    Returns
    -------
    con : ndarray
        ``(n_freq, 2 n_channels, 2 n_channels)``, or with an epochs axis after ``n_freq``.

    Raises
    ------
    AssertionError
        The participants have different numbers of epochs (as HyPyP).
    TypeError
        ``frequencies`` is neither a list nor a dict (HyPyP's message).

    See Also
    --------
    compute_sync, compute_freq_bands, compute_single_freq
    """
    assert data[0].shape[0] == data[1].shape[0], "Two streams much have the same lengths."
    if type(frequencies) is list:
        # taper average, no squeeze: singleton epochs/channels/frequencies keep their axes
        values = np.mean(compute_single_freq(data, sampling_rate, frequencies), 3)
    elif type(frequencies) is dict:
        values = compute_freq_bands(data, sampling_rate, frequencies)
    else:
        raise TypeError("Please use a list or a dictionary to specify frequencies.")
    return compute_sync(values, mode, epochs_average)


def compute_nmPLV(
    data,
    sampling_rate: float,
    freq_range1,
    freq_range2,
    *,
    bug_compat: bool = False,
) -> np.ndarray:
    """Phase locking value n:m between two participants at different frequencies (HyPyP).

    Parameters
    ----------
    data : array, shape (2, n_epochs, n_channels, n_times)
        The two participants' epochs.
    sampling_rate : float
        Sampling frequency in Hz.
    freq_range1, freq_range2 : [fmin, fmax]
        Frequency ranges of participant 1 and 2. The ratio ``r = mean(freq_range2) /
        mean(freq_range1)`` is made a fraction ``n/m`` (denominator at most 10); the
        multitaper signals at every integer frequency in ``[min(freq_range1),
        max(freq_range2))`` are computed, S1 phases raised to ``n`` and S2 phases to ``m``.
    bug_compat : bool
        Reproduce HyPyP 0.6.2's three bugs here: it raises the phases of the first
        ``n_channels`` *time samples* (of every channel) to ``n`` and those of the other samples
        to ``m`` (it indexes the last axis, time, where it means the channel axis), so S1 and
        S2 are not given their own exponents; it averages over the *frequencies* (axis 1 of
        its ``(n_epochs, n_freq, 2C, 2C)`` array), not over the epochs its docstring names,
        returning ``(n_epochs, 2C, 2C)``; and it squeezes the taper-averaged signal, which
        breaks (IndexError) with one epoch, channel or frequency. ``False`` (default): the
        documented ``(n_freq, 2C, 2C)`` average over epochs, every axis kept.

    Returns
    -------
    con : ndarray, shape (n_freq, 2 n_channels, 2 n_channels)
        PLV of the adjusted phases, averaged over epochs (NaN ignored); ``(n_epochs, 2C, 2C)``
        averaged over frequencies with ``bug_compat=True``.

    See Also
    --------
    compute_single_freq, compute_sync
    """
    from fractions import Fraction

    r = np.mean(freq_range2) / np.mean(freq_range1)
    freq_range = [np.min(freq_range1), np.max(freq_range2)]
    cs = np.mean(compute_single_freq(data, sampling_rate, freq_range), 3)
    if bug_compat:
        cs = cs.squeeze()
    cs = _check_5d(cs, "the taper-averaged signal")
    _, n_epoch, n_ch, n_freq, n_samp = cs.shape
    values = cs.transpose((1, 3, 0, 2, 4)).reshape(n_epoch, n_freq, 2 * n_ch, n_samp)
    with np.errstate(divide="ignore", invalid="ignore"):
        phase = values / np.abs(values)
    frac = Fraction(r).limit_denominator(10)
    n, m = frac.numerator, frac.denominator
    # HyPyP indexes the last axis (time samples) where it means the channels
    s1, s2 = (
        (np.s_[..., :n_ch], np.s_[..., n_ch:])
        if bug_compat
        else (np.s_[:, :, :n_ch], np.s_[:, :, n_ch:])
    )
    phase[s1] = phase[s1] ** n
    phase[s2] = phase[s2] ** m
    con = _sync_per_freq(phase, "plv", "numpy", None, None)  # (n_freq, n_epochs, 2C, 2C)
    return np.nanmean(con, axis=0 if bug_compat else 1)
