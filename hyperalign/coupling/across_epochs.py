"""Synchrony across epochs (inter-trial): the definitions of ``spectral_connectivity_epochs``.

:func:`compute_sync` measures synchrony *within* each epoch, over its samples (HyPyP's and
``mne_connectivity.spectral_connectivity_time``'s definition): one value per epoch, which the
coupling models need. Event-related designs instead measure the consistency of the phase
relation *across* epochs (Lachaux et al. 1999's original PLV over trials), as
``mne_connectivity.spectral_connectivity_epochs`` does: one value per frequency (and per time
point for wavelets), the epochs being the samples.

The metric kernels are the same: :func:`sync_across_epochs` puts the epochs on the axis the
kernels average over and every other axis (frequencies, times) in the batch, so the definitions
(``plv``, ``coh`` = ``|<S_xy>| / sqrt(<S_xx><S_yy>)``, ``imcoh`` signed as mne-connectivity's,
``pli``, ``wpli``; ``<.>`` = mean over epochs) are those of mne-connectivity with one taper
(``mode='fourier'``) or Morlet wavelets (``mode='cwt_morlet'``). :func:`epoch_spectra` computes
the coefficients those two modes use (Hann-windowed Fourier coefficients of the demeaned epoch;
zero-mean Morlet wavelets convolved in ``'same'`` mode).
"""

from __future__ import annotations

import warnings

import numpy as np

from ..utils import check_option, fill_doc
from ._sync_inputs import _channel_names
from .metrics import resolve_metric, sync_from_analytic

__all__ = ["epoch_spectra", "sync_across_epochs"]

#: mne-connectivity method name -> hyperalign metric with the same definition
MNE_CONNECTIVITY_METHODS = {
    "plv": "plv",
    "coh": "coh",
    "imcoh": "imcoh_signed",
    "pli": "pli",
    "wpli": "wpli",
}


def epoch_spectra(
    data,
    sfreq: float,
    *,
    mode: str = "fourier",
    freqs=None,
    fmin: float | None = None,
    fmax: float | None = None,
    n_cycles: float | np.ndarray = 7.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Complex spectral coefficients of every epoch and channel.

    Parameters
    ----------
    data : array, shape (n_epochs, n_channels, n_times)
        Real epochs.
    sfreq : float
        Sampling frequency in Hz.
    mode : 'fourier' | 'cwt_morlet'
        ``'fourier'``: Hann-windowed FFT of each demeaned epoch (mne-connectivity's
        ``mode='fourier'``). ``'cwt_morlet'``: convolution with zero-mean Morlet wavelets of
        ``n_cycles`` cycles at ``freqs`` (its ``mode='cwt_morlet'``).
    freqs : array of float | None
        Wavelet frequencies in Hz (``'cwt_morlet'``; required).
    fmin, fmax : float | None
        ``'fourier'``: keep FFT bins with ``fmin <= f <= fmax`` (default: all but DC).
    n_cycles : float | array
        Cycles per wavelet (``'cwt_morlet'``).

    Returns
    -------
    coefs : complex ndarray, shape (n_epochs, n_channels, n_freqs[, n_times])
        ``n_times`` only for ``'cwt_morlet'``.
    freqs : ndarray, shape (n_freqs,)
        Frequencies (Hz) of the coefficients.
    """
    check_option("mode", mode, ("fourier", "cwt_morlet"))
    data = np.asarray(data, dtype=float)
    if data.ndim != 3:
        raise ValueError(
            f"data must be shaped (n_epochs, n_channels, n_times); got shape {data.shape}"
        )
    if not np.all(np.isfinite(data)):
        raise ValueError("data contains NaN or infinite values; interpolate or drop them first")
    sfreq = float(sfreq)
    n_t = data.shape[-1]
    if mode == "fourier":
        if freqs is not None:
            raise ValueError("freqs applies to mode='cwt_morlet'; use fmin/fmax with 'fourier'")
        grid = np.fft.rfftfreq(n_t, 1.0 / sfreq)
        lo = grid[1] if fmin is None else float(fmin)
        hi = grid[-1] if fmax is None else float(fmax)
        keep = (grid >= lo) & (grid <= hi)
        if not keep.any():
            raise ValueError(
                f"no FFT bin between fmin={lo:g} and fmax={hi:g} Hz (bins are {grid[1]:g} Hz "
                "apart); widen the range or use longer epochs"
            )
        x = (data - data.mean(axis=-1, keepdims=True)) * np.hanning(n_t)
        return np.fft.rfft(x, axis=-1)[..., keep], grid[keep]
    import mne

    if freqs is None:
        raise ValueError("mode='cwt_morlet' needs freqs (wavelet frequencies in Hz)")
    freqs = np.atleast_1d(np.asarray(freqs, dtype=float))
    ws = mne.time_frequency.morlet(sfreq, freqs, n_cycles=n_cycles, zero_mean=True)
    too_long = [f for f, w in zip(freqs, ws) if w.size > n_t]
    if too_long:
        raise ValueError(
            f"Morlet wavelets at {too_long} Hz are longer than the epochs ({n_t} samples); use "
            "fewer n_cycles, higher frequencies or longer epochs"
        )
    coefs = np.stack(
        [mne.time_frequency.tfr.cwt(ep, ws, use_fft=True, mode="same", decim=1) for ep in data]
    )
    return coefs, freqs


@fill_doc
def sync_across_epochs(
    z1,
    z2,
    metric: str,
    *,
    freqs=None,
    times=None,
    ch_names=None,
    backend: str = "numpy",
    device=None,
    return_type: str = "coupling",
):
    """One synchrony value per frequency (and time), the epochs being the samples.

    Parameters
    ----------
    z1 : complex array, shape (n_epochs, C1[, n_freqs[, n_times]])
        Coefficients of S1 (e.g. from :func:`epoch_spectra`): epochs first, channels second,
        then frequencies and (Morlet wavelets) times.
    z2 : complex array, shape (n_epochs, C2[, n_freqs[, n_times]])
        Coefficients of S2, same epochs and trailing axes.
    metric : str
        A metric name or alias (``plv``, ``coh``, ``imcoh_signed``, ``pli``, ``wpli``, ...) or
        an mne-connectivity method name prefixed ``'mne:'`` (``'mne:imcoh'`` is the signed
        imaginary coherence).
    freqs : array of float | None
        Frequencies (Hz) of the ``n_freqs`` axis (the second output of
        :func:`epoch_spectra`): the labels of the ``freqs`` dim and its ``fmin``/``fmax``
        coordinates. ``None``: the labels are the indices ``0, 1, ...`` and ``fmin``/``fmax``
        are NaN.
    times : array of float | None
        Times (s) of the ``n_times`` axis (e.g. ``epochs.times``); ``None``: sample indices.
    ch_names : list of str | pair of lists | None
        Channel names (one list when both participants have the same channels, or one per
        participant); default ``ch1..chN`` with the suffixes ``_S1``/``_S2``.
    backend : 'numpy' | 'torch'
        Array library for the metric kernels; results come back as NumPy.
    %(device)s
    return_type : 'coupling' | 'array'
        ``'coupling'`` (default): a :class:`~hyperalign.coupling.results.Coupling`.
        ``'array'`` is deprecated (removed in the next release): the bare array of earlier
        releases, shaped ``(*trailing axes of z1, C1, C2)``, with a ``FutureWarning``.

    Returns
    -------
    coupling : Coupling
        Dims ``(metric, epochs, freqs, lags, node_in, node_out)``, plus ``times`` with
        Morlet coefficients: one metric, one ``epochs`` entry labelled ``-1`` (the epochs
        are averaged; their number is ``attrs['n_epochs_averaged']``), one lag (0 s),
        ``node_in`` = S1 channels, ``node_out`` = S2 channels.
        ``coupling.get_data()[0, 0, :, 0]`` is ``(n_freqs, C1, C2[, n_times])``.

    See Also
    --------
    epoch_spectra, compute_sync, Coupling

    Examples
    --------
    Phase locking across 20 epochs of a 10 Hz component with a fixed S1-S2 lag:

    >>> import numpy as np
    >>> from hyperalign.coupling import epoch_spectra, sync_across_epochs
    >>> rng = np.random.default_rng(0)
    >>> t = np.arange(200) / 100.0
    >>> phase = rng.uniform(-0.5, 0.5, (20, 1, 1))
    >>> s1 = np.sin(2 * np.pi * 10 * t + phase) + rng.standard_normal((20, 2, 200))
    >>> s2 = np.sin(2 * np.pi * 10 * t + phase - 0.8) + rng.standard_normal((20, 2, 200))
    >>> z1, freqs = epoch_spectra(s1, 100.0, fmin=8.0, fmax=12.0)
    >>> z2, _ = epoch_spectra(s2, 100.0, fmin=8.0, fmax=12.0)
    >>> con = sync_across_epochs(z1, z2, "plv", freqs=freqs)
    >>> con.get_data().shape  # metric, epochs, freqs, lags, node_in, node_out
    (1, 1, 9, 1, 2, 2)
    >>> plv = con.mean(["node_in", "node_out"]).get_data()[0, 0, :, 0, 0, 0]
    >>> float(freqs[np.argmax(plv)])
    10.0
    """
    check_option("return_type", return_type, ("coupling", "array"))
    name = _metric_name(metric)
    z1, z2 = _check_coefficients(z1, z2)
    rest = z1.shape[2:]
    if return_type == "coupling" and len(rest) > 2:
        raise ValueError(
            f"z1 and z2 have {len(rest)} trailing axes {rest}; a Coupling holds frequencies "
            "and times (at most 2); reshape them, or pass return_type='array' (deprecated)"
        )
    n_rest = int(np.prod(rest)) if rest else 1

    def batch(z):  # (E, C, *rest) -> (n_rest, C, E): epochs on the averaged axis
        return np.moveaxis(z.reshape(z.shape[0], z.shape[1], n_rest), 0, -1).transpose(1, 0, 2)

    out = sync_from_analytic(batch(z1), batch(z2), name, backend=backend, device=device)
    out = out.reshape(*rest, z1.shape[1], z2.shape[1])
    if return_type == "array":
        warnings.warn(
            "sync_across_epochs(return_type='array') is deprecated and will be removed in the "
            "next release; use the Coupling it returns by default (.get_data()[0, 0, :, 0] is "
            "(n_freqs, C1, C2[, n_times]))",
            FutureWarning,
            stacklevel=2,
        )
        return out
    attrs = {
        "mode": "inter",
        "method": str(metric),
        "definition": "across epochs, as mne_connectivity.spectral_connectivity_epochs",
        "n_epochs_averaged": int(z1.shape[0]),
        "backend": backend,
        "dyad_id": "",
        "participant_ids": ["S1", "S2"],
        "units": "unitless",
    }
    return _across_coupling(out, name, freqs=freqs, times=times, ch_names=ch_names, attrs=attrs)


def _metric_name(metric) -> str:
    """Canonical metric name; ``'mne:<method>'`` names mne-connectivity's definition."""
    if isinstance(metric, str) and metric.lower().startswith("mne:"):
        key = metric[4:].lower()
        if key not in MNE_CONNECTIVITY_METHODS:
            raise ValueError(
                f"unknown mne-connectivity method {key!r}; allowed: "
                f"{sorted(MNE_CONNECTIVITY_METHODS)}"
            )
        metric = MNE_CONNECTIVITY_METHODS[key]
    return resolve_metric(metric)


def _check_coefficients(z1, z2) -> tuple[np.ndarray, np.ndarray]:
    z1, z2 = np.asarray(z1), np.asarray(z2)
    if z1.ndim < 2 or z2.ndim < 2:
        raise ValueError(
            f"z1 and z2 must be shaped (n_epochs, n_channels, ...); got {z1.shape}, {z2.shape}"
        )
    if z1.shape[0] != z2.shape[0] or z1.shape[2:] != z2.shape[2:]:
        raise ValueError(
            "z1 and z2 must have the same epochs and trailing (frequency/time) axes; got "
            f"{z1.shape} and {z2.shape}"
        )
    if z1.shape[0] < 2:
        raise ValueError(f"synchrony across epochs needs at least 2 epochs; got {z1.shape[0]}")
    return z1, z2


def _freq_labels(freqs, n_freqs: int) -> dict:
    """``{label: (fmin, fmax)}`` of the frequency axis: Hz when known, else indices."""
    if freqs is None:
        return {i: (np.nan, np.nan) for i in range(n_freqs)}
    f = np.atleast_1d(np.asarray(freqs, dtype=float))
    if f.ndim != 1 or f.size != n_freqs:
        raise ValueError(
            f"freqs must hold one frequency (Hz) per coefficient; got {f.size} for {n_freqs} "
            "(pass the freqs that epoch_spectra returned)"
        )
    if np.unique(f).size != f.size or not np.isfinite(f).all():
        raise ValueError(f"freqs must be finite and unique; got {f.tolist()}")
    return {float(v): (float(v), float(v)) for v in f}


def _across_coupling(out, name, *, freqs, times, ch_names, attrs):
    """Wrap ``out`` (n_freqs[, n_times], C1, C2) (or (C1, C2)) in a Coupling."""
    from .results import Coupling

    c1, c2 = out.shape[-2:]
    if out.ndim == 2:
        out = out[None]
    has_times = out.ndim == 4
    if times is not None and not has_times:
        raise ValueError("times applies to time-resolved coefficients (mode='cwt_morlet')")
    if has_times:
        n_t = out.shape[1]
        times = np.arange(n_t, dtype=float) if times is None else np.asarray(times, float)
        if times.shape != (n_t,):
            raise ValueError(f"times must hold {n_t} values (one per sample); got {times.shape}")
        out = np.moveaxis(out, 1, -1)  # (F, C1, C2, T)
    node_in, node_out = _channel_names(ch_names, c1, c2)
    con = Coupling.from_array(
        out[None, None, :, None],
        metrics=[name],
        bands=_freq_labels(freqs, out.shape[0]),
        lags=[0.0],
        node_in=node_in,
        node_out=node_out,
        attrs=attrs,
        times=times if has_times else None,
    )
    return Coupling(con.xarray.assign_coords(epochs=[-1]))
