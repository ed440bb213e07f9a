"""Wavelet machinery of :func:`~hyperalign.coupling.slow.wavelet_coherence`: the Morlet CWT,
Grinsted et al.'s smoothing, the scales and the result container."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(repr=False)
class WaveletCoherenceResult:
    """Wavelet transform coherence of two signals (:func:`wavelet_coherence`).

    Parameters
    ----------
    wtc : ndarray, shape (n_freqs, n_times)
        Coherence in [0, 1].
    freqs : ndarray, shape (n_freqs,)
        Fourier frequencies (Hz) of the scales (descending).
    coi : ndarray, shape (n_times,)
        Cone of influence as a Fourier period (s).
    phase : ndarray, shape (n_freqs, n_times)
        Phase of the smoothed cross-spectrum (radians; positive: ``x`` leads).
    sfreq : float
        Sampling rate (Hz).
    """

    wtc: np.ndarray
    freqs: np.ndarray
    coi: np.ndarray
    phase: np.ndarray
    sfreq: float
    #: how many arrays tuple-unpacking yields (the old return of wavelet_coherence)
    _n_unpack = 3

    @property
    def times(self) -> np.ndarray:
        """Sample times (s)."""
        return np.arange(self.wtc.shape[1]) / self.sfreq

    @property
    def in_coi(self) -> np.ndarray:
        """(n_freqs, n_times) bool: True where the value is free of edge effects."""
        return (1.0 / self.freqs)[:, None] <= self.coi[None, :]

    def to_data_frame(self) -> pd.DataFrame:
        """Long table: ``freq, time, wtc, phase, in_coi`` (one row per frequency and time).

        Returns
        -------
        df : pandas.DataFrame
            Columns ``freq, time, wtc, phase, in_coi``.
        """
        nf, nt = self.wtc.shape
        return pd.DataFrame(
            {
                "freq": np.repeat(self.freqs, nt),
                "time": np.tile(self.times, nf),
                "wtc": self.wtc.ravel(),
                "phase": self.phase.ravel(),
                "in_coi": self.in_coi.ravel(),
            }
        )

    def __iter__(self):
        warnings.warn(
            "wavelet_coherence returns a WaveletCoherenceResult; unpacking it as a tuple is "
            "deprecated: use .wtc, .freqs, .coi and .phase",
            DeprecationWarning,
            stacklevel=2,
        )
        items = (self.wtc, self.freqs, self.coi, self.phase)
        return iter(items[: self._n_unpack])

    def __repr__(self) -> str:
        return (
            f"<WaveletCoherenceResult | {self.wtc.shape[0]} freqs ({self.freqs.min():.3g}-"
            f"{self.freqs.max():.3g} Hz) x {self.wtc.shape[1]} samples | mean coherence "
            f"{np.nanmean(self.wtc):.3f}>"
        )


_W0 = 6.0
_DELTAJ0 = 0.60  # Morlet scale-decorrelation length (Torrence & Compo 1998, table 2)


def _flambda(w0: float) -> float:
    """Fourier period / scale of the Morlet wavelet."""
    return 4.0 * np.pi / (w0 + np.sqrt(2.0 + w0**2))


def _next_pow2(n: int) -> int:
    return int(2 ** np.ceil(np.log2(n)))


def _scales(n: int, dt: float, dj: float, freqs, w0: float) -> np.ndarray:
    fl = _flambda(w0)
    if freqs is None:
        s0 = 2.0 * dt / fl
        j = int(np.round(np.log2(n * dt / s0) / dj))
        return s0 * 2.0 ** (np.arange(j + 1) * dj)
    f = np.asarray(freqs, dtype=float)
    if f.shape != (2,) or not (0 < f[0] < f[1]):
        raise ValueError(
            "freqs must be None or a (fmin, fmax) pair in Hz with 0 < fmin < fmax (scales are "
            f"log-spaced by dj between them); got {freqs!r}"
        )
    if f[1] > 1.0 / (2.0 * dt * fl) * 1.0001:
        raise ValueError(
            f"freqs fmax={f[1]:g} Hz is above the highest resolvable frequency "
            f"{1.0 / (2.0 * dt * fl):.3g} Hz (scale 2 samples) at sfreq={1 / dt:g} Hz"
        )
    s_min = 1.0 / (fl * f[1])
    s_max = 1.0 / (fl * f[0])
    j = int(np.floor(np.log2(s_max / s_min) / dj + 1e-9))
    return s_min * 2.0 ** (np.arange(j + 1) * dj)


def cwt_morlet(
    x,
    sfreq: float,
    scales: np.ndarray,
    *,
    w0: float = _W0,
) -> np.ndarray:
    """Continuous wavelet transform with the Morlet wavelet (Torrence & Compo 1998).

    Parameters
    ----------
    x : array, shape (..., n_times)
        Signals.
    sfreq : float
        Sampling rate in Hz.
    scales : array, shape (n_scales,)
        Wavelet scales in seconds.
    w0 : float
        Non-dimensional frequency of the Morlet wavelet.

    Returns
    -------
    W : ndarray of complex, shape (..., n_scales, n_times)
        Computed in the Fourier domain with zero padding to the next power of two (as pycwt).
    """
    x = np.asarray(x, dtype=float)
    dt = 1.0 / float(sfreq)
    n = x.shape[-1]
    nfft = _next_pow2(n)
    xf = np.fft.fft(x, n=nfft, axis=-1)
    om = 2.0 * np.pi * np.fft.fftfreq(nfft, dt)
    sw = scales[:, None] * om[None, :]
    psi = np.pi**-0.25 * np.exp(-0.5 * (sw - w0) ** 2) * (sw > 0)
    norm = np.sqrt(scales[:, None] * om[1] * nfft)
    W = np.fft.ifft(xf[..., None, :] * (norm * psi), axis=-1)
    return W[..., :n]


def _scale_kernel(dj: float, smoothing: str) -> np.ndarray:
    """Boxcar in scale of 0.6 octave (Morlet decorrelation length).

    ``'grinsted'``: the MATLAB ``smoothwavelet`` kernel of Grinsted et al. (2004): width exactly
    ``0.6 / dj`` scales, fractional end weights. ``'pycwt'``: pycwt's ``rect(round(2*0.6/dj))``
    (about twice as wide, ends weighted 0.5).
    """
    if smoothing == "grinsted":
        steps = _DELTAJ0 / (dj * 2.0)
        frac = steps % 1.0
        k = np.concatenate([[frac], np.ones(2 * int(np.floor(steps + 0.5)) - 1), [frac]])
    else:
        m = max(int(np.round(_DELTAJ0 / dj * 2)), 2)
        k = np.ones(m)
        k[0] = k[-1] = 0.5
    k = k[k > 0]
    return k / k.sum()


def _smooth(
    W: np.ndarray, dt: float, dj: float, scales: np.ndarray, smoothing: str = "grinsted"
) -> np.ndarray:
    """Grinsted et al. (2004) smoothing: Gaussian in time (per scale), boxcar 0.6 in scale."""
    from scipy.signal import convolve

    n = W.shape[-1]
    nfft = _next_pow2(n)
    k = 2.0 * np.pi * np.fft.fftfreq(nfft)
    F = np.exp(-0.5 * (scales[:, None] / dt) ** 2 * k[None, :] ** 2)
    T = np.fft.ifft(F * np.fft.fft(W, n=nfft, axis=-1), axis=-1)[..., :n]
    if np.isrealobj(W):
        T = T.real
    win = _scale_kernel(dj, smoothing)
    shape = [1] * T.ndim
    shape[-2] = win.size
    return convolve(T, win.reshape(shape), mode="same")


def _check_wtc_signals(x, y) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.ndim != 1 or y.ndim != 1:
        raise ValueError(
            f"x and y must be 1-D signals (one channel each); got shapes {x.shape} and "
            f"{y.shape}; loop over channel pairs"
        )
    if x.size != y.size:
        raise ValueError(
            f"x and y must have the same number of samples; got {x.size} and {y.size}"
        )
    for name, v in (("x", x), ("y", y)):
        if not np.isfinite(v).all():
            raise ValueError(
                f"{name} contains {int((~np.isfinite(v)).sum())} NaN/inf value(s); "
                "interpolate bad segments first"
            )
        if np.ptp(v) == 0:
            raise ValueError(f"{name} is constant: coherence is undefined")
    return x, y


def _periods_to_freqs(freqs, periods):
    """The frequency range (Hz) from ``freqs`` or from Fourier ``periods`` (s)."""
    if periods is None:
        return freqs
    if freqs is not None:
        raise ValueError("give freqs or periods, not both")
    p = np.asarray(periods, dtype=float)
    if p.shape != (2,) or not (0 < p[0] < p[1]):
        raise ValueError(
            f"periods must be a (pmin, pmax) pair in seconds with 0 < pmin < pmax; got {periods!r}"
        )
    return (1.0 / p[1], 1.0 / p[0])


def _wtc(x, y, sfreq, scales, *, dj, w0, scale_smoothing) -> tuple[np.ndarray, np.ndarray]:
    """Coherence in [0, 1] and phase of the smoothed cross-spectrum (Grinsted et al. 2004)."""
    dt = 1.0 / sfreq
    W = cwt_morlet(np.stack([x, y]), sfreq, scales, w0=w0)
    W1, W2 = W[0], W[1]
    sc = scales[:, None]
    S1 = _smooth(np.abs(W1) ** 2 / sc, dt, dj, scales, scale_smoothing)
    S2 = _smooth(np.abs(W2) ** 2 / sc, dt, dj, scales, scale_smoothing)
    S12 = _smooth(W1 * W2.conj() / sc, dt, dj, scales, scale_smoothing)
    with np.errstate(invalid="ignore", divide="ignore"):
        wtc = np.abs(S12) ** 2 / (S1 * S2)
    return np.clip(wtc, 0.0, 1.0), np.angle(S12)
