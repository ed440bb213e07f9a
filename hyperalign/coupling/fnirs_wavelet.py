"""HyPyP 0.6's default wavelet transform coherence, re-implemented (its values, to 1e-14).

:func:`wavelet_coherence_hypyp` is ``hypyp.wavelet.ComplexMorletWavelet().wtc(pair)``: the
continuous wavelet transform of pywavelets (``pywt.cwt(..., 'cmor2,1', method='fft')``, its
algorithm: the integrated mother wavelet resampled per scale, FFT convolution, a derivative),
scales from Fourier periods 2-20 s at ``dj = 1/12``, Torrence & Compo's smoothing in time
(Gaussian of the scale, in the Fourier domain) and a boxcar in scale (``0.6 * 2`` scales wide,
pycwt's factor), coherence ``|S(W12/s)|^2 / (S(|W1|^2/s) S(|W2|^2/s))``, and the cone of
influence. :class:`WaveletCoherence` summarises it like HyPyP's ``WTC`` (bins inside the cone,
time series per period bin). See :mod:`hyperalign.coupling.fnirs_study` for studies.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from math import ceil, floor

import numpy as np

__all__ = ["MASK_THRESHOLD", "WaveletCoherence", "wavelet_coherence_hypyp"]

MASK_THRESHOLD = 0.5  # HyPyP: a bin more than half outside the cone of influence is NaN


# ------------------------------------------------------------------------------------------
# the wavelet (pywavelets' cmor CWT, method='fft', re-implemented)
# ------------------------------------------------------------------------------------------
def _cmor(x, bandwidth, center):
    return (
        1
        / np.sqrt(np.pi * bandwidth)
        * np.exp(-(x**2) / bandwidth)
        * np.exp(2j * np.pi * center * x)
    )


def _central_frequency(bandwidth, center, bounds, precision=8) -> float:
    x = np.linspace(bounds[0], bounds[1], 2**precision)
    psi = _cmor(x, bandwidth, center)
    index = np.argmax(np.abs(np.fft.fft(psi)[1:])) + 2
    if index > len(psi) / 2:
        index = len(psi) - index + 2
    return 1.0 / (float(x[-1] - x[0]) / (index - 1))


def _cwt_cmor(y, scales, bandwidth, center, bounds, precision=12) -> np.ndarray:
    """``pywt.cwt(y, scales, 'cmor{B},{C}', method='fft')`` coefficients (its algorithm)."""
    x = np.linspace(bounds[0], bounds[1], 2**precision)
    step = x[1] - x[0]
    int_psi = np.conj(np.cumsum(_cmor(x, bandwidth, center)) * step)
    out = np.empty((len(scales), y.size), dtype=complex)
    size0, fft_data = -1, None
    for i, scale in enumerate(scales):
        j = (np.arange(scale * (x[-1] - x[0]) + 1) / (scale * step)).astype(int)
        j = j[j < int_psi.size]
        psi_s = int_psi[j][::-1]
        size = int(2 ** ceil(np.log2(y.size + psi_s.size - 1)))
        if size != size0:
            fft_data, size0 = np.fft.fft(y, size), size
        conv = np.fft.ifft(np.fft.fft(psi_s, size) * fft_data)[: y.size + psi_s.size - 1]
        coef = -np.sqrt(scale) * np.diff(conv)
        d = (coef.size - y.size) / 2.0
        if d < 0:
            raise ValueError(f"scale {scale} is too small for the wavelet")
        out[i] = coef[floor(d) : -ceil(d)] if d > 0 else coef
    return out


def _smooth(w, scales, win):
    """HyPyP's WTC smoothing: Gaussian in time (FFT), boxcar ``win`` in scale."""
    from scipy import fft
    from scipy.ndimage import convolve1d

    n = int(2 ** np.ceil(np.log2(w.shape[1])))
    k2 = (2 * np.pi * fft.fftfreq(n)) ** 2
    t = fft.ifft(np.exp(-0.5 * scales[:, None] ** 2 * k2) * fft.fft(w, axis=1, n=n), axis=1)
    t = t[:, : w.shape[1]]
    if np.isreal(w).all():
        t = t.real
    return convolve1d(t, win, axis=0, mode="nearest")


def _boxcar(size, dj):
    steps = size * 2 / dj
    frac = steps % 1
    steps = int(np.floor(steps))
    if steps <= 1:
        return np.array([1.0])
    win = np.ones(steps + (frac != 0))
    if frac:
        win[0] = win[-1] = frac / 2
    return win / win.sum()


@dataclass
class WaveletCoherence:
    """Wavelet transform coherence of one signal pair (HyPyP's ``WTC``).

    Parameters
    ----------
    wtc : ndarray, shape (n_periods, n_times)
        Coherence in [0, 1].
    periods : ndarray, shape (n_periods,)
        Fourier periods (s), ascending.
    times : ndarray, shape (n_times,)
        Sample times (s).
    coi : ndarray, shape (n_times,)
        Cone of influence as a Fourier period (s) at each time.
    scales : ndarray, shape (n_periods,)
        Wavelet scales of the periods.
    label : dict
        What the pair is (dyad, channels, task, ...; HyPyP's label fields).

    See Also
    --------
    wavelet_coherence_hypyp, plot_wtc
    """

    wtc: np.ndarray  #: (n_periods, n_times) in [0, 1]
    periods: np.ndarray  #: Fourier periods (s), ascending
    times: np.ndarray  #: (n_times,) s
    coi: np.ndarray  #: cone of influence (period, s) at each time
    scales: np.ndarray
    label: dict = field(default_factory=dict)

    @property
    def frequencies(self) -> np.ndarray:
        """Fourier frequencies in Hz."""
        return 1.0 / self.periods

    @property
    def mask(self) -> np.ndarray:
        """True outside the cone of influence (edge effects)."""
        return self.periods[:, None] > self.coi[None, :]

    def period_ranges(self, period_cuts=None) -> list[tuple[int, int]]:
        """Index ranges of the period bins (HyPyP's ``p_ranges``).

        Parameters
        ----------
        period_cuts : list of float | None
            Period bin edges in seconds (``None``: one bin).

        Returns
        -------
        ranges : list of (int, int)
            ``(start, stop)`` indices into :attr:`periods` of each bin.
        """
        n = len(self.periods)
        if period_cuts is None:
            return [(0, n)]
        out, start = [], 0
        for cut in period_cuts:
            cur = start
            if cur < n and cut < self.periods[cur]:
                continue
            while cur < n:
                if self.periods[cur] > cut and cur > start:
                    out.append((start, cur))
                    start = cur
                    break
                cur += 1
        if not out:
            return [(0, n)]
        if out[-1][1] < n:
            out.append((out[-1][1], n))
        return out

    def bins(self, *, bin_seconds=None, period_cuts=None) -> list[tuple]:
        """Mean coherence inside the cone per time bin x period bin (HyPyP's order).

        Parameters
        ----------
        bin_seconds : float | None
            Time bin length in seconds (``None``: one bin).
        period_cuts : list of float | None
            Period bin edges in seconds (``None``: one bin).

        Returns
        -------
        bins : list of tuple
            ``(coherence, fraction_masked, time_range, period_range)`` per bin; the
            coherence is NaN when more than ``MASK_THRESHOLD`` of the bin is outside the cone.
        """
        dt = self.times[1] - self.times[0]
        n_t = len(self.times)
        if bin_seconds is None:
            t_ranges = [(0, n_t)]
        else:
            size = int(bin_seconds / dt)
            t_ranges = [(k * size, (k + 1) * size) for k in range(int(n_t * dt / bin_seconds))]
        wm = np.ma.masked_array(self.wtc, self.mask)
        out = []
        for t0, t1 in t_ranges:
            for p0, p1 in self.period_ranges(period_cuts):
                b = wm[p0:p1, t0:t1]
                coh, masked = np.mean(b), np.mean(b.mask)
                if np.ma.is_masked(coh) or not np.isfinite(coh) or masked > MASK_THRESHOLD:
                    coh = np.nan
                out.append(
                    (
                        float(coh),
                        float(masked),
                        f"{np.round(t0 * dt):.0f}-{np.round(t1 * dt):.0f}",
                        f"{self.periods[p0]:.1f}-{self.periods[p1 - 1]:.1f}",
                    )
                )
        return out

    def time_series(self, *, period_cuts=None, window_size: int = 10) -> np.ndarray:
        """Coherence over time per period bin, moving-averaged (HyPyP's ``get_as_time_series``).

        Parameters
        ----------
        period_cuts : list of float | None
            Period bin edges in seconds (``None``: one bin).
        window_size : int
            Moving-average width in samples.

        Returns
        -------
        series : numpy.ma.MaskedArray, shape (n_period_bins, n_times)
            Masked outside the cone of influence.
        """
        wm = np.ma.masked_array(self.wtc, self.mask)
        ranges = self.period_ranges(period_cuts)
        data = np.ma.zeros((len(ranges), wm.shape[1]))
        for i, (p0, p1) in enumerate(ranges):
            data[i] = wm[p0:p1].mean(axis=0)
        kernel = np.ones(window_size) / window_size
        rows = []
        for row in data:
            row = row.copy()
            mask = np.array(np.ma.getmaskarray(row))
            valid = np.flatnonzero(~mask)
            if valid.size:
                row[: valid[0]] = row[valid[0]]
                row[valid[-1] :] = row[valid[-1]]
            rows.append(np.convolve(row, kernel, mode="same"))
        return np.ma.masked_array(np.array(rows), np.ma.getmaskarray(data))


def wavelet_coherence_hypyp(
    y1,
    y2,
    dt: float,
    *,
    period_range: tuple[float, float] = (2.0, 20.0),
    dj: float = 1.0 / 12.0,
    smoothing_win_size: float = 0.6,
    bandwidth: float = 2.0,
    center: float = 1.0,
    bounds: tuple[float, float] = (-8.0, 8.0),
) -> WaveletCoherence:
    """Wavelet transform coherence with HyPyP 0.6's default wavelet (its values).

    Parameters
    ----------
    y1, y2 : array, shape (n_times,)
        The two signals (standardised here, as HyPyP does).
    dt : float
        Sampling interval in seconds.
    period_range : (float, float)
        Fourier periods in seconds (HyPyP's default 2-20 s).
    dj : float
        Octaves between scales (``n = round(log2(pmax / pmin) / dj)`` periods, log-spaced).
    smoothing_win_size : float
        Boxcar width in scale (HyPyP's ``wtc_smoothing_win_size``).
    bandwidth, center : float
        Complex Morlet parameters (pywavelets' ``cmorB,C``).
    bounds : (float, float)
        Support on which the mother wavelet is evaluated.

    Returns
    -------
    wtc : WaveletCoherence
        The coherence map, its periods, times and cone of influence.

    See Also
    --------
    hyperalign.coupling.wavelet_coherence : Pycwt / Grinsted et al.'s WTC (Morlet w0 = 6).
    """
    y1 = np.asarray(y1, dtype=float)
    y2 = np.asarray(y2, dtype=float)
    if y1.ndim != 1 or y1.shape != y2.shape:
        raise ValueError(
            f"y1 and y2 must be 1-D and the same length; got {y1.shape} and {y2.shape}"
        )
    if not (np.isfinite(y1).all() and np.isfinite(y2).all()):
        raise ValueError("y1 and y2 must be finite; split NaN sections first")
    if dj > 1:
        raise ValueError(f"dj must be smaller than 1; got {dj}")
    kw = dict(period_range=period_range, dj=dj, smoothing_win_size=smoothing_win_size,
              bandwidth=bandwidth, center=center, bounds=bounds)  # fmt: skip
    return _coherence(_transform(y1, dt, **kw), _transform(y2, dt, **kw), dt, center)


def _transform(y, dt, *, period_range, dj, smoothing_win_size, bandwidth, center, bounds):
    """CWT of one standardised signal and its smoothed power (reused across pairs)."""
    lo, hi = sorted(period_range)
    periods = np.logspace(np.log2(lo), np.log2(hi), int(np.round(np.log2(hi / lo) / dj)), base=2)
    fc = _central_frequency(bandwidth, center, bounds)
    scales = fc / ((1 / periods) * dt)
    w = _cwt_cmor((y - y.mean()) / y.std(), scales, bandwidth, center, bounds)
    sm = np.ones([1, y.size]) * scales[:, None]
    win = _boxcar(smoothing_win_size, dj)
    power = _smooth(np.abs(w) ** 2 / sm, scales, win)
    return {"w": w, "power": power, "scales": scales, "sm": sm, "win": win,
            "periods": 1 / (fc / scales / dt)}  # fmt: skip


def _coherence(t1, t2, dt, center) -> WaveletCoherence:
    n = t1["w"].shape[1]
    cross = t1["w"] * t2["w"].conj() / t1["sm"]
    s12 = np.abs(_smooth(cross, t1["scales"], t1["win"]))
    flambda = 2 * np.pi / (2 * np.pi * center)
    coi = flambda / np.sqrt(2) * dt * (n / 2 - np.abs(np.arange(n) - (n - 1) / 2))
    wtc = s12**2 / (t1["power"] * t2["power"])
    return WaveletCoherence(wtc, t1["periods"], np.arange(n) * dt, coi, t1["scales"])
