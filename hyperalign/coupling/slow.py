"""Synchrony for slow signals (fNIRS, fMRI): lagged correlation (ISC / ISFC) and wavelet coherence.

:func:`lagged_correlation`
    Pearson correlation between the two participants' signals at a list of lags, over the
    whole recording or per window: inter-subject correlation (ISC, matched channels) or
    inter-subject functional correlation (ISFC, all channel pairs; Simony et al. 2016).
:func:`wavelet_coherence`
    Wavelet transform coherence as fNIRS hyperscanning studies use it (Grinsted, Moore &
    Jevrejeva 2004; Torrence & Compo 1998; the MATLAB ``wtc`` toolbox and ``pycwt``): Morlet
    wavelet (``w0 = 6``), smoothing in time by a Gaussian of the wavelet's width and in scale by
    a boxcar of 0.6 octave, and the cone of influence.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..utils import (
    check_option,
    check_positive,
    fill_doc,
    logger,
    verbose,
)
from ..utils._validation import renamed_params
from ._wavelets import (  # noqa: F401 - the wavelet machinery, importable from here as before
    _W0,
    WaveletCoherenceResult,
    _check_wtc_signals,
    _flambda,
    _periods_to_freqs,
    _scale_kernel,
    _scales,
    _smooth,
    _wtc,
    cwt_morlet,
)

__all__ = ["lagged_correlation", "wavelet_coherence", "cwt_morlet", "WaveletCoherenceResult"]


def _as_2d(x, name: str) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    if x.ndim == 1:
        x = x[np.newaxis]
    if x.ndim != 2:
        raise ValueError(
            f"{name} must be (n_times,) or (n_channels, n_times); got shape {x.shape}"
        )
    bad = ~np.isfinite(x)
    if bad.any():
        ch, t = np.nonzero(bad)
        raise ValueError(
            f"{name} contains {bad.sum()} NaN/inf value(s) (first at channel {ch[0]}, sample "
            f"{t[0]}); interpolate or crop bad segments first"
        )
    return x


@renamed_params(kind="metric")
@fill_doc
@verbose
def lagged_correlation(
    x1,
    x2,
    sfreq: float,
    lags: Sequence[float] = (0.0,),
    window: float | None = None,
    *,
    step: float | None = None,
    metric: str = "isfc",
    ch_names=None,
    return_type: str = "coupling",
    verbose=None,
):
    """Lagged Pearson correlation between two participants: ISC or ISFC, per window.

    Parameters
    ----------
    x1, x2 : array, shape (n_channels, n_times) or (n_times,)
        Signals of participant 1 and 2 on one clock (same ``n_times``).
    sfreq : float
        Sampling rate in Hz.
    lags : sequence of float
        Lags in seconds of participant 2 relative to participant 1: at lag ``tau`` the
        correlation is between ``x1(t)`` and ``x2(t + tau)`` (positive: participant 2 follows).
    window : float | None
        Window length in seconds; ``None`` uses the whole recording (for each lag, the samples
        where both shifted signals exist).
    step : float | None
        Step between window onsets in seconds (default: ``window``, non-overlapping). Windows
        are placed on participant 1's clock; a window whose lagged partner falls outside the
        recording is NaN (counted in a warning).
    metric : 'isfc' | 'isc'
        ``'isfc'``: every channel pair (node_in = participant 1's channels, node_out =
        participant 2's); ``'isc'``: matched channels only (needs equal channel counts;
        node_out is the single label ``'matched'`` and the ``partner`` coordinate of node_in
        names participant 2's channel). Called ``kind`` before; that name is a deprecated
        alias.
    ch_names : list of str | pair of lists | None
        Channel names (one list for both participants, or one per participant); default
        ``ch1..chN`` with the suffixes ``_S1``/``_S2``.
    return_type : 'coupling' | 'xarray'
        ``'coupling'`` (default): a :class:`~hyperalign.coupling.results.Coupling`.
        ``'xarray'`` is deprecated (removed in the next release): the
        :class:`xarray.DataArray` of earlier releases, with a ``FutureWarning``.
    %(verbose)s

    Returns
    -------
    coupling : Coupling
        Dims ``(metric, epochs, freqs, lags, node_in, node_out)``: one metric (``'isfc'`` or
        ``'isc'``), one epoch per window (coordinates ``onset``, ``offset``, ``duration`` in
        s), one band ``'broadband'`` (0 Hz to Nyquist), the lags (s). ``attrs['n_flat']``
        counts the constant (window, lag, channel) signals (their correlations are NaN) and
        ``attrs['n_lag_out']`` the window x lag combinations outside the recording (NaN).

    See Also
    --------
    wavelet_coherence, compute_sync, Coupling

    Examples
    --------
    Participant 2's first channel follows participant 1's by 2 s (4 samples at 2 Hz):

    >>> import numpy as np
    >>> from hyperalign.coupling import lagged_correlation
    >>> rng = np.random.default_rng(0)
    >>> src = rng.standard_normal(1010)
    >>> x1 = np.stack([src, rng.standard_normal(1010)])
    >>> x2 = np.stack([np.roll(src, 4), rng.standard_normal(1010)])
    >>> con = lagged_correlation(x1, x2, 2.0, lags=(0.0, 2.0), window=100.0, metric="isc")
    >>> con.get_data().shape  # metric, windows, band, lags, channels, 'matched'
    (1, 5, 1, 2, 2, 1)
    >>> r = con.mean("epochs").get_data("isc")[0, 0, :, :, 0]  # (lags, channels)
    >>> float(con.lags[np.argmax(r[:, 0])]), bool(r[1, 0] > 0.8)
    (2.0, True)
    """
    check_option("metric", metric, ("isfc", "isc"))
    check_option("return_type", return_type, ("coupling", "xarray"))
    sfreq = float(check_positive("sfreq", sfreq))
    x1, x2 = _check_pair(x1, x2, metric)
    n = x1.shape[1]
    lags = np.atleast_1d(np.asarray(lags, dtype=float))
    shifts = np.round(lags * sfreq).astype(int)
    w, onsets = _window_onsets(n, sfreq, window, step)
    _check_lag_span(lags, shifts, n, w, sfreq)
    out, n_out, n_flat = _lagged_r(x1, x2, shifts, onsets, w, metric)
    attrs = {"sfreq": sfreq, "window_s": np.nan if w is None else w / sfreq,
             "lag_convention": "x2(t + lag) vs x1(t)", "n_lag_out": n_out,
             "n_flat": n_flat}  # fmt: skip
    if return_type == "xarray":
        warnings.warn(
            "lagged_correlation(return_type='xarray') is deprecated and will be removed in "
            "the next release; use the Coupling it returns by default",
            FutureWarning,
            stacklevel=3,
        )
        return _lagged_xarray(out, onsets, lags, metric, sfreq, attrs)
    span = n if w is None else w
    return _lagged_coupling(out, onsets, span, lags, metric, sfreq, ch_names, attrs)


def _check_pair(x1, x2, metric: str) -> tuple[np.ndarray, np.ndarray]:
    x1 = _as_2d(x1, "x1")
    x2 = _as_2d(x2, "x2")
    if x1.shape[1] != x2.shape[1]:
        raise ValueError(
            f"x1 and x2 must have the same number of samples; got {x1.shape[1]} and "
            f"{x2.shape[1]}; crop both to the shared span"
        )
    if metric == "isc" and x1.shape[0] != x2.shape[0]:
        raise ValueError(
            f"metric='isc' correlates matched channels but x1 has {x1.shape[0]} channel(s) and "
            f"x2 has {x2.shape[0]}; pick matched channels or use metric='isfc'"
        )
    return x1, x2


def _window_onsets(n: int, sfreq: float, window, step) -> tuple[int | None, np.ndarray]:
    """Window length in samples (``None``: the whole recording) and the onsets (samples)."""
    if window is None:
        return None, np.array([0])
    check_positive("window", window)
    w = int(round(float(window) * sfreq))
    if w < 3:
        raise ValueError(f"window={window} s is shorter than 3 samples at {sfreq:g} Hz")
    if w > n:
        raise ValueError(
            f"window={window} s ({w} samples) is longer than the recording ({n / sfreq:.3g} s)"
        )
    st = w if step is None else int(round(check_positive("step", step) * sfreq))
    return w, np.arange(0, n - w + 1, max(st, 1))


def _check_lag_span(lags, shifts, n: int, w: int | None, sfreq: float) -> None:
    too_long = np.abs(shifts) >= (n if w is None else w)
    if too_long.any():
        span = n / sfreq if w is None else w / sfreq
        raise ValueError(
            f"lags {lags[too_long].tolist()} s are not shorter than the "
            f"{'recording' if w is None else 'window'} ({span:.3g} s); use shorter lags or "
            "longer windows"
        )


def _lagged_r(x1, x2, shifts, onsets, w, metric: str) -> tuple[np.ndarray, int, int]:
    """Correlations ``(windows, lags, C1, C2)`` (``(windows, lags, C)`` for ISC), with the
    numbers of window x lag combinations outside the recording and of constant signals."""
    n = x1.shape[1]
    c1, c2 = x1.shape[0], x2.shape[0]
    shape = (len(onsets), len(shifts), c1) + ((c2,) if metric == "isfc" else ())
    out = np.full(shape, np.nan)
    n_out = n_flat = 0
    for li, k in enumerate(shifts):
        if w is None:
            a = x1[:, max(0, -k) : n - max(0, k)][np.newaxis]
            b = x2[:, max(0, k) : n + min(0, k)][np.newaxis]
            ok = np.array([True])
        else:
            ok = (onsets + k >= 0) & (onsets + k + w <= n)
            n_out += int((~ok).sum())
            idx = onsets[ok][:, None] + np.arange(w)[None]
            a = x1[:, idx].transpose(1, 0, 2)
            b = x2[:, idx + k].transpose(1, 0, 2)
        a = a - a.mean(-1, keepdims=True)
        b = b - b.mean(-1, keepdims=True)
        na = np.sqrt((a * a).sum(-1))
        nb = np.sqrt((b * b).sum(-1))
        n_flat += int((na == 0).sum() + (nb == 0).sum())
        with np.errstate(invalid="ignore", divide="ignore"):
            if metric == "isfc":
                r = np.einsum("wit,wjt->wij", a, b) / (na[:, :, None] * nb[:, None, :])
            else:
                r = (a * b).sum(-1) / (na * nb)
        out[ok, li] = r
    if n_out:
        logger.warning(
            "lagged_correlation: %d window x lag combination(s) fall outside the recording "
            "and are NaN",
            n_out,
        )
    if n_flat:
        logger.warning(
            "lagged_correlation: %d (window, lag, channel) signal(s) are constant (zero "
            "variance): their correlations are NaN (attrs['n_flat'])",
            n_flat,
        )
    return out, n_out, n_flat


def _lagged_coupling(out, onsets, span, lags, metric, sfreq, ch_names, attrs):
    """The correlations as a Coupling (ISC: node_out ``'matched'``, node_in ``partner``)."""
    from ._sync_inputs import _channel_names
    from .results import Coupling

    c1 = out.shape[2]
    c2 = out.shape[3] if metric == "isfc" else c1
    ch1, ch2 = _channel_names(ch_names, c1, c2)
    values = out if metric == "isfc" else out[..., None]
    md = pd.DataFrame({"onset": onsets / sfreq, "offset": (onsets + span) / sfreq,
                       "duration": np.full(len(onsets), span / sfreq)})  # fmt: skip
    attrs = {**attrs, "mode": "inter" if metric == "isfc" else "matched", "dyad_id": "",
             "participant_ids": ["S1", "S2"], "units": "Pearson r"}  # fmt: skip
    con = Coupling.from_array(
        values[None, :, None],  # (metric, windows, band, lags, C1, C2)
        metrics=[metric],
        bands={"broadband": (0.0, sfreq / 2.0)},
        lags=lags,
        node_in=ch1,
        node_out=ch2 if metric == "isfc" else ["matched"],
        attrs=attrs,
        epochs_metadata=md,
    )
    if metric == "isc":
        con = Coupling(con.xarray.assign_coords(partner=("node_in", ch2)))
    return con


def _lagged_xarray(out, onsets, lags, metric, sfreq, attrs):
    """The DataArray of earlier releases (``return_type='xarray'``, deprecated)."""
    import xarray as xr

    coords = {"windows": np.arange(len(onsets)), "onset": ("windows", onsets / sfreq),
              "lags": lags}  # fmt: skip
    if metric == "isfc":
        dims = ("windows", "lags", "node_in", "node_out")
        coords.update(node_in=np.arange(out.shape[2]), node_out=np.arange(out.shape[3]))
    else:
        dims = ("windows", "lags", "channels")
        coords.update(channels=np.arange(out.shape[2]))
    da = xr.DataArray(out, dims=dims, coords=coords, name=metric)
    da.attrs = attrs
    return da


# --------------------------------------------------------------------------- wavelets
@fill_doc
@verbose
def wavelet_coherence(
    x,
    y,
    sfreq: float,
    freqs: tuple[float, float] | None = None,
    *,
    periods: tuple[float, float] | None = None,
    dj: float = 1.0 / 12.0,
    w0: float = _W0,
    normalize: bool = True,
    scale_smoothing: str = "grinsted",
    return_phase: bool = False,
    verbose=None,
):
    """Wavelet transform coherence (WTC) between two signals (Grinsted et al. 2004).

    Parameters
    ----------
    x, y : array, shape (n_times,)
        The two signals (e.g. one fNIRS channel of each participant), on one clock.
    sfreq : float
        Sampling rate in Hz.
    freqs : (fmin, fmax) | None
        Frequency range in Hz (scales log-spaced by ``dj`` between ``1/(lambda fmax)`` and
        ``1/(lambda fmin)``); ``None`` uses pycwt's default scales (smallest Fourier period two
        samples, up to the length of the recording).
    periods : (pmin, pmax) | None
        The same range given as Fourier periods in seconds (e.g. ``(10, 100)`` for fNIRS);
        exclusive with ``freqs``.
    dj : float
        Spacing between scales in octaves (default 1/12).
    w0 : float
        Morlet non-dimensional frequency (6).
    normalize : bool
        Standardize both signals (zero mean, unit variance) first, as pycwt and the MATLAB
        toolbox do.
    scale_smoothing : 'grinsted' | 'pycwt'
        The boxcar in scale: ``'grinsted'`` (default) is the MATLAB ``wtc`` kernel of Grinsted
        et al. (2004), 0.6 octave wide; ``'pycwt'`` reproduces pycwt's ``wct`` exactly (its
        kernel spans ``round(1.2 / dj)`` scales, about 1.1 octaves).
    return_phase : bool
        Also return the phase of the smoothed cross-spectrum (radians; positive: ``x`` leads).
    %(verbose)s

    Returns
    -------
    result : WaveletCoherenceResult
        ``.wtc`` (n_freqs, n_times) coherence in [0, 1]; ``.freqs`` (n_freqs,) Fourier
        frequencies (Hz) of the scales, in scale order (ascending scale, i.e. descending
        frequency), as pycwt; ``.coi`` (n_times,) cone of influence as a Fourier period (s)
        at each time (values at periods above it, frequencies below ``1 / coi``, are affected
        by the edges); ``.phase`` (n_freqs, n_times) always; ``.to_data_frame()`` a long
        table. Unpacking it as the old tuple (``wtc, freqs, coi = ...``, plus ``phase`` with
        ``return_phase=True``) still works, with a ``DeprecationWarning``.

    See Also
    --------
    cwt_morlet, lagged_correlation, hyperalign.coupling.fnirs_study.wavelet_coherence_hypyp

    Examples
    --------
    Two noisy 0.1 Hz oscillations, ``x`` leading ``y`` by 1 radian, 5 min at 4 Hz:

    >>> import numpy as np
    >>> from hyperalign.coupling import wavelet_coherence
    >>> t = np.arange(1200) / 4.0
    >>> rng = np.random.default_rng(0)
    >>> x = np.sin(2 * np.pi * 0.1 * t) + 0.5 * rng.standard_normal(t.size)
    >>> y = np.sin(2 * np.pi * 0.1 * t - 1.0) + 0.5 * rng.standard_normal(t.size)
    >>> res = wavelet_coherence(x, y, 4.0, periods=(5, 50))
    >>> res.wtc.shape  # (n_freqs, n_times)
    (40, 1200)
    >>> i = np.argmin(np.abs(res.freqs - 0.1))
    >>> ok = res.in_coi[i]  # free of edge effects
    >>> print(f"{res.wtc[i, ok].mean():.2f} {np.median(res.phase[i, ok]):.1f}")
    0.99 1.0
    """
    sfreq = float(check_positive("sfreq", sfreq))
    x, y = _check_wtc_signals(x, y)
    check_positive("dj", dj)
    freqs = _periods_to_freqs(freqs, periods)
    check_option("scale_smoothing", scale_smoothing, ("grinsted", "pycwt"))
    dt = 1.0 / sfreq
    n = x.size
    if n < 8:
        raise ValueError(f"x and y need at least 8 samples; got {n}")
    scales = _scales(n, dt, float(dj), freqs, float(w0))
    if normalize:
        x = (x - x.mean()) / x.std()
        y = (y - y.mean()) / y.std()
    wtc, phase = _wtc(x, y, sfreq, scales, dj=dj, w0=w0, scale_smoothing=scale_smoothing)
    fl = _flambda(float(w0))
    f = 1.0 / (fl * scales)
    idx = np.arange(n)
    coi = fl / np.sqrt(2.0) * dt * (n / 2.0 - np.abs(idx - (n - 1) / 2.0))
    logger.info("wavelet_coherence: %d samples, %d scales (%.3g-%.3g Hz)", n, scales.size,
                f.min(), f.max())  # fmt: skip
    res = WaveletCoherenceResult(wtc=wtc, freqs=f, coi=coi, phase=phase, sfreq=sfreq)
    res._n_unpack = 4 if return_phase else 3
    return res
