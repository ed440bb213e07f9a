"""One polyphase resampler for the whole package (audio, envelopes, frame features).

Every stage that changes the rate of a regularly sampled signal calls :func:`resample_poly_to`
so that the anti-aliasing filter and the rational approximation of the rate ratio are the
same everywhere; callers differ only in the arguments they pass.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np


def resample_poly_to(
    x,
    sfreq: float,
    target: float,
    *,
    axis: int = -1,
    max_denominator: int = 1000,
    padtype: str = "constant",
) -> tuple[np.ndarray, float]:
    """Resample ``x`` from ``sfreq`` to (a rational approximation of) ``target`` Hz.

    Parameters
    ----------
    x : array-like
        The signal; time runs along ``axis``.
    sfreq : float
        Its sampling rate (Hz).
    target : float
        The rate asked for (Hz).
    axis : int
        The time axis.
    max_denominator : int
        Largest denominator of the rational ratio ``target / sfreq`` (``up / down`` of
        :func:`scipy.signal.resample_poly`).
    padtype : str
        Padding at the edges, as in :func:`scipy.signal.resample_poly`.

    Returns
    -------
    y : numpy.ndarray
        The resampled signal (``x`` itself when the ratio is 1).
    sfreq_out : float
        The exact rate obtained, ``sfreq * up / down``.

    See Also
    --------
    scipy.signal.resample_poly : The polyphase filter used.
    """
    from scipy.signal import resample_poly

    ratio = Fraction(float(target) / float(sfreq)).limit_denominator(max_denominator)
    if ratio.numerator == 0:
        raise ValueError(
            f"cannot resample {sfreq} Hz to {target} Hz: the ratio is below "
            f"1/{max_denominator}; pass a target rate closer to the signal's rate"
        )
    if ratio == 1:
        return x, float(sfreq)
    y = resample_poly(x, ratio.numerator, ratio.denominator, axis=axis, padtype=padtype)
    return y, float(sfreq) * ratio.numerator / ratio.denominator
