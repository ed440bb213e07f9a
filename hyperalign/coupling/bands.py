"""Band specificity: the real edges of each band's filter, and bands whose filters overlap.

A band named "alpha 8-13 Hz" passes more than 8-13 Hz: every filter has transition regions
where its gain falls from 1 to 0. With MNE's automatic transition widths
(``l_trans_bandwidth='auto'``: ``min(max(0.25 * fmin, 2), fmin)`` Hz), alpha's lower
transition reaches down to 6 Hz and theta's (4-8 Hz) upper one up to 10 Hz, so activity at
6-10 Hz shows in *both* bands' results. :func:`band_edges` measures, for each band, where the
filter that the synchrony engine will actually apply passes half its amplitude (-6 dB) and
where its gain first drops below a stop-band level (``stop_db``, -40 dB by default) from the
frequency response of that filter (the MNE FIR or IIR design for ``filter='hypyp'``, the
raised-cosine FFT mask for ``filter='fft'``). :func:`check_band_overlap` names every pair of
bands whose pass-bands or transition regions overlap, with the overlap in Hz, and warns (or
raises under ``strict=True``).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..utils import _validate_type, check_option, fill_doc, logger

__all__ = ["band_edges", "band_leakage", "check_band_overlap", "fft_transitions"]

#: frequency grid step (Hz) on which filter responses are evaluated
_DF = 0.005
#: transition-width arguments the FFT path accepts in ``filter_kwargs``
FFT_KWARGS = ("l_trans_bandwidth", "h_trans_bandwidth")
_WARNED: set = set()


def _auto_trans(fmin: float, fmax: float, sfreq: float) -> tuple[float, float]:
    """MNE's automatic transition bandwidths (``l_trans_bandwidth='auto'`` etc.)."""
    l_trans = min(max(0.25 * fmin, 2.0), fmin)
    h_trans = min(max(0.25 * fmax, 2.0), sfreq / 2.0 - fmax)
    return l_trans, h_trans


def fft_transitions(
    fmin: float, fmax: float, sfreq: float, filter_kwargs: Mapping | None = None
) -> tuple[float, float]:
    """Lower and upper transition widths (Hz) of the FFT band mask.

    Parameters
    ----------
    fmin, fmax, sfreq : float
        Band edges and sampling frequency (Hz).
    filter_kwargs : dict | None
        ``l_trans_bandwidth`` / ``h_trans_bandwidth``: a width in Hz or ``'auto'`` (MNE's
        rule, the default). No other key is allowed.

    Returns
    -------
    l_trans, h_trans : float
        Widths in Hz, limited so the mask stays within 0 Hz and Nyquist.
    """
    kw = dict(filter_kwargs or {})
    bad = sorted(set(kw) - set(FFT_KWARGS))
    if bad:
        raise ValueError(
            f"filter_kwargs for filter='fft' may hold only {list(FFT_KWARGS)}; got {bad}. The "
            "other MNE options apply to filter='hypyp'"
        )
    auto = _auto_trans(fmin, fmax, sfreq)
    out = []
    for key, a, limit in zip(FFT_KWARGS, auto, (fmin, sfreq / 2.0 - fmax)):
        v = kw.get(key, "auto")
        if isinstance(v, str) and v == "auto":
            out.append(a)
            continue
        if isinstance(v, bool) or not isinstance(v, int | float) or not v > 0:
            raise ValueError(f"filter_kwargs[{key!r}] must be 'auto' or a width > 0 Hz; got {v!r}")
        out.append(min(float(v), limit))
    return out[0], out[1]


def fft_gain(freqs, fmin: float, fmax: float, l_trans: float, h_trans: float) -> np.ndarray:
    """Amplitude gain of the FFT band mask at ``freqs``: 1 in ``[fmin, fmax]``, raised-cosine
    transitions down to 0 at ``fmin - l_trans`` and ``fmax + h_trans``."""
    f = np.asarray(freqs, dtype=float)
    g = ((f >= fmin) & (f <= fmax)).astype(float)
    lo = (f < fmin) & (f > fmin - l_trans)
    g[lo] = 0.5 * (1 - np.cos(np.pi * (f[lo] - (fmin - l_trans)) / l_trans))
    hi = (f > fmax) & (f < fmax + h_trans)
    g[hi] = 0.5 * (1 + np.cos(np.pi * (f[hi] - fmax) / h_trans))
    return g


def _response(freqs, sfreq, fmin, fmax, method, filter_kwargs) -> np.ndarray:
    """Amplitude gain of the filter the engine applies for one band (zero-phase, so |H|)."""
    if method == "fft":
        return fft_gain(freqs, fmin, fmax, *fft_transitions(fmin, fmax, sfreq, filter_kwargs))
    import mne
    from scipy import signal

    kw = {k: v for k, v in (filter_kwargs or {}).items() if k not in ("n_jobs", "pad", "copy")}
    h = mne.filter.create_filter(None, sfreq, fmin, fmax, verbose=False, **kw)
    if isinstance(h, dict):  # IIR (sos or b/a); forward-backward filtering squares |H|
        if "sos" in h:
            _, H = signal.sosfreqz(h["sos"], worN=freqs, fs=sfreq)
        else:
            _, H = signal.freqz(h["b"], h["a"], worN=freqs, fs=sfreq)
        g = np.abs(H)
        return g**2 if kw.get("phase", "zero") in ("zero", "zero-double") else g
    _, H = signal.freqz(np.atleast_1d(h), worN=freqs, fs=sfreq)
    return np.abs(H)


def _edge(freqs, gain, level, side: str, fmin: float, fmax: float) -> float:
    """Outermost frequency, contiguous with the pass-band, where ``gain >= level``."""
    mid = np.searchsorted(freqs, 0.5 * (fmin + fmax))
    above = gain >= level
    if side == "lo":
        below = np.flatnonzero(~above[:mid])
        return float(freqs[below[-1] + 1]) if below.size else float(freqs[0])
    below = np.flatnonzero(~above[mid:])
    return float(freqs[mid + below[0] - 1]) if below.size else float(freqs[-1])


@fill_doc
def band_edges(
    bands: Mapping,
    sfreq: float,
    *,
    method: str = "hypyp",
    filter_kwargs: Mapping | None = None,
    stop_db: float = -40.0,
) -> pd.DataFrame:
    """Where each band's filter really passes: -6 dB and stop-band edges, measured.

    Parameters
    ----------
    %(bands)s
    sfreq : float
        Sampling frequency (Hz).
    method : 'hypyp' | 'fft'
        The engine's band-pass (see :func:`hyperalign.coupling.spectral.analytic_signal`):
        the response of the MNE design (:func:`mne.filter.create_filter` with
        ``filter_kwargs``) or of the FFT mask is evaluated on a 0.005 Hz grid.
    filter_kwargs : dict | None
        As given to the engine (e.g. ``{'l_trans_bandwidth': 0.5, 'h_trans_bandwidth': 0.5}``).
    stop_db : float
        Gain (dB, amplitude) below which the filter counts as stopping (-40 dB: 1%% of the
        amplitude, 0.01%% of the power).

    Returns
    -------
    edges : DataFrame
        One row per band: ``band, fmin, fmax, cut_lo, cut_hi`` (-6 dB, half amplitude),
        ``stop_lo, stop_hi`` (outermost frequencies still above ``stop_db``), ``method``.

    See Also
    --------
    check_band_overlap, band_leakage
    """
    from .spectral import FILTERS, check_bands

    check_option("method", method, FILTERS)
    _validate_type(stop_db, (int, float), "stop_db")
    if not stop_db < -6:
        raise ValueError(f"stop_db must be below -6 dB (e.g. -40); got {stop_db!r}")
    bands = check_bands(bands, sfreq)
    freqs = np.arange(0.0, sfreq / 2.0 + _DF / 2, _DF)
    level = 10 ** (stop_db / 20.0)
    rows = []
    for name, (lo, hi) in bands.items():
        g = _response(freqs, sfreq, lo, hi, method, filter_kwargs)
        rows.append(
            {
                "band": name,
                "fmin": lo,
                "fmax": hi,
                "cut_lo": _edge(freqs, g, 0.5, "lo", lo, hi),
                "cut_hi": _edge(freqs, g, 0.5, "hi", lo, hi),
                "stop_lo": _edge(freqs, g, level, "lo", lo, hi),
                "stop_hi": _edge(freqs, g, level, "hi", lo, hi),
                "method": method,
            }
        )
    return pd.DataFrame(rows)


def _fmt(v: float) -> str:
    return f"{v:.2f}".rstrip("0").rstrip(".")


@fill_doc
def check_band_overlap(
    bands: Mapping,
    sfreq: float,
    *,
    method: str = "hypyp",
    filter_kwargs: Mapping | None = None,
    strict: bool = False,
    stop_db: float = -40.0,
) -> pd.DataFrame:
    """Find bands whose pass-bands or transition regions overlap, before computing anything.

    Two bands overlap when the frequency ranges where their filters pass more than
    ``stop_db`` (:func:`band_edges`) intersect: activity there shows in both bands' results,
    so a band-specific claim cannot rest on them.

    Parameters
    ----------
    %(bands)s
    sfreq : float
        Sampling frequency (Hz).
    method : 'hypyp' | 'fft'
        The engine's band-pass.
    filter_kwargs : dict | None
        As given to the engine (transition widths, filter length...).
    strict : bool
        Raise a ``ValueError`` instead of logging a warning.
    stop_db : float
        Stop-band level (dB) of :func:`band_edges`.

    Returns
    -------
    overlaps : DataFrame
        One row per overlapping pair: ``band_a, band_b, overlap_lo, overlap_hi, overlap_hz``
        (where both pass more than ``stop_db``) and ``max_shared_gain`` (the largest gain both
        filters have at one frequency: 0.5 where their -6 dB edges meet). Empty when the
        bands are separate.

    See Also
    --------
    band_edges, band_leakage
    """
    _validate_type(strict, bool, "strict")
    edges = band_edges(bands, sfreq, method=method, filter_kwargs=filter_kwargs, stop_db=stop_db)
    freqs = np.arange(0.0, sfreq / 2.0 + _DF / 2, _DF)
    rows, lines = [], []
    for i in range(len(edges)):
        for j in range(i + 1, len(edges)):
            a, b = edges.iloc[i], edges.iloc[j]
            lo, hi = max(a.stop_lo, b.stop_lo), min(a.stop_hi, b.stop_hi)
            if hi <= lo:
                continue
            ga = _response(freqs, sfreq, a.fmin, a.fmax, method, filter_kwargs)
            gb = _response(freqs, sfreq, b.fmin, b.fmax, method, filter_kwargs)
            shared = float(np.minimum(ga, gb).max())
            rows.append(
                {"band_a": a.band, "band_b": b.band, "overlap_lo": lo, "overlap_hi": hi,
                 "overlap_hz": hi - lo, "max_shared_gain": shared}
            )  # fmt: skip
            lines.append(
                f"'{a.band}' ({_fmt(a.fmin)}-{_fmt(a.fmax)} Hz; passes "
                f"{_fmt(a.stop_lo)}-{_fmt(a.stop_hi)} Hz) and '{b.band}' ({_fmt(b.fmin)}-"
                f"{_fmt(b.fmax)} Hz; passes {_fmt(b.stop_lo)}-{_fmt(b.stop_hi)} Hz) overlap by "
                f"{_fmt(hi - lo)} Hz ({_fmt(lo)}-{_fmt(hi)} Hz, shared gain up to "
                f"{shared:.2f}): activity there shows in both bands"
            )
    out = pd.DataFrame(
        rows,
        columns=["band_a", "band_b", "overlap_lo", "overlap_hi", "overlap_hz", "max_shared_gain"],
    )
    if lines:
        msg = (
            f"band overlap with filter={method!r} "
            f"(filter_kwargs={dict(filter_kwargs or {})}, gain above {stop_db:g} dB):\n  "
            + "\n  ".join(lines)
            + "\nFor band-specific results, narrow the transitions (filter_kwargs="
            "{'l_trans_bandwidth': 0.5, 'h_trans_bandwidth': 0.5}) and leave a guard band "
            "between neighbouring bands (e.g. theta 4-8 Hz, alpha 9-13 Hz)"
        )
        if strict:
            raise ValueError(msg + "; or pass strict=False to only warn")
        logger.warning(msg)
    return out


def _check_overlap_once(bands, sfreq, method, filter_kwargs, strict: bool = False) -> None:
    """:func:`check_band_overlap`, warning once per process for the same settings."""
    key = (
        tuple((k, tuple(v)) for k, v in dict(bands).items()),
        float(sfreq),
        method,
        repr(sorted(dict(filter_kwargs or {}).items())),
    )
    if key in _WARNED and not strict:
        return
    check_band_overlap(bands, sfreq, method=method, filter_kwargs=filter_kwargs, strict=strict)
    _WARNED.add(key)


def band_leakage(
    bands: Mapping,
    sfreq: float,
    *,
    source: tuple[float, float] | None = None,
    method: str = "hypyp",
    filter_kwargs: Mapping | None = None,
) -> pd.DataFrame:
    """Fraction of a source's power each band's filter passes (a leakage matrix).

    Parameters
    ----------
    bands : dict
        ``{name: (fmin, fmax)}`` in Hz.
    sfreq : float
        Sampling frequency (Hz).
    source : (float, float) | None
        Band of a flat-spectrum source (e.g. the simulation's planted 4-8 Hz component). With
        ``None``, each band's own nominal pass-band is the source in turn.
    method, filter_kwargs
        The engine's band-pass and its options.

    Returns
    -------
    leakage : DataFrame
        One row per source x band: ``source, band, power_fraction`` (power passed / source
        power) and ``relative`` (power passed / power the source's own band passes, 1 on the
        diagonal; with an explicit ``source``, relative to the band passing most).

    See Also
    --------
    band_edges, check_band_overlap
    """
    from .spectral import check_bands

    bands = check_bands(bands, sfreq)
    freqs = np.arange(0.0, sfreq / 2.0 + _DF / 2, _DF)
    gains = {n: _response(freqs, sfreq, lo, hi, method, filter_kwargs) ** 2 for n, (lo, hi) in
             bands.items()}  # fmt: skip
    sources = {f"{source[0]:g}-{source[1]:g} Hz": tuple(source)} if source else bands
    rows = []
    for sname, (slo, shi) in sources.items():
        psd = ((freqs >= slo) & (freqs <= shi)).astype(float)
        passed = {n: float((g * psd).sum() / psd.sum()) for n, g in gains.items()}
        ref = passed.get(sname) or max(passed.values()) or 1.0
        for n, p in passed.items():
            rows.append({"source": sname, "band": n, "power_fraction": p, "relative": p / ref})
    return pd.DataFrame(rows)
