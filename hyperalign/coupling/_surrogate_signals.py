"""Signal-level surrogates: phase randomization, circular shifts and segment shuffles.

The time-series surrogates of :mod:`hyperalign.coupling.surrogates` (see its docstring for the
methods and their references), on arrays of any shape with time last.
"""

from __future__ import annotations

import numpy as np

from ..utils import _validate_type, check_option, check_random_state

SURROGATE_METHODS = ("circular_shift", "phase_randomization", "segment_shuffle", "pseudo_dyads")


# --------------------------------------------------------------------------- array surrogates
def _check_signal(data, name: str = "data") -> np.ndarray:
    data = np.asarray(data)
    if data.ndim < 1 or data.shape[-1] < 4:
        raise ValueError(
            f"{name} must have shape (..., n_times) with n_times >= 4; got {data.shape}"
        )
    if np.iscomplexobj(data):
        finite = np.isfinite(data.real) & np.isfinite(data.imag)
    else:
        finite = np.isfinite(data)
    if not finite.all():
        n_bad = int((~finite).sum())
        raise ValueError(
            f"{name} contains {n_bad} NaN/inf value(s); interpolate or drop the bad segments "
            "before computing surrogates"
        )
    return data


def phase_randomize(
    data,
    *,
    multivariate: bool = False,
    random_state=None,
) -> np.ndarray:
    """Fourier-transform (phase-randomized) surrogate with exactly the same power spectrum.

    Parameters
    ----------
    data : array, shape (..., n_channels, n_times) or (n_times,)
        Real signals (or complex analytic signals, see Notes).
    multivariate : bool
        If False (default) every signal gets its own random phases. If True the same random
        phases are added to every channel (axis -2) of a leading index, which keeps the
        cross-spectra between channels (within-brain coupling) and breaks only the coupling to
        anything else.
    random_state : None | int | numpy.random.Generator
        Seed.

    Returns
    -------
    surrogate : ndarray, same shape and dtype kind as ``data``
        For real input, the DC and (even length) Nyquist coefficients keep their phase so that
        the output is real and ``|rfft(surrogate)| == |rfft(data)|`` to machine precision.

    Notes
    -----
    For a complex analytic signal (only non-negative frequencies) the positive-frequency
    coefficients are multiplied by ``exp(i * phi)``; with the same generator state this gives
    the analytic signal of the phase-randomized real signal.
    """
    data = _check_signal(data)
    rng = check_random_state(random_state)
    n = data.shape[-1]
    if np.iscomplexobj(data):
        spec = np.fft.fft(data, axis=-1)
        n_pos = n // 2 + 1
    else:
        spec = np.fft.rfft(data, axis=-1)
        n_pos = spec.shape[-1]
    shape = list(data.shape[:-1]) + [n_pos]
    if multivariate and data.ndim >= 2:
        shape[-2] = 1
    phi = rng.uniform(0.0, 2.0 * np.pi, size=shape)
    phi[..., 0] = 0.0
    if n % 2 == 0:
        phi[..., n_pos - 1] = 0.0
    rot = np.exp(1j * phi)
    if np.iscomplexobj(data):
        spec[..., :n_pos] *= rot
        return np.fft.ifft(spec, axis=-1).astype(data.dtype, copy=False)
    spec *= rot
    return np.fft.irfft(spec, n=n, axis=-1).astype(data.dtype, copy=False)


def _draw_shift(n_times: int, min_shift: int, rng) -> int:
    if not 0 <= min_shift <= n_times // 2:
        raise ValueError(
            f"min_shift must be between 0 and half the recording ({n_times // 2} samples); got "
            f"{min_shift} samples; use a shorter min_shift"
        )
    lo, hi = max(min_shift, 1), n_times - max(min_shift, 1)
    return int(rng.integers(lo, hi + 1))


def circular_shift(
    data,
    shift: int | None = None,
    *,
    min_shift: int = 0,
    random_state=None,
) -> np.ndarray:
    """Rotate signals in time (all channels together), keeping their autocorrelation exactly.

    Parameters
    ----------
    data : array, shape (..., n_times)
        Signals (real or complex).
    shift : int | None
        Shift in samples (positive: later). ``None`` draws one uniformly in
        ``[max(min_shift, 1), n_times - max(min_shift, 1)]``.
    min_shift : int
        Smallest distance (samples) of a random shift from 0 (and from ``n_times``), so that the
        surrogate is never close to the original alignment.
    random_state : None | int | numpy.random.Generator
        Seed (used when ``shift`` is None).

    Returns
    -------
    surrogate : ndarray, same shape as ``data``
        ``data`` rotated by the shift along the last axis.
    """
    data = _check_signal(data)
    if shift is None:
        shift = _draw_shift(data.shape[-1], int(min_shift), check_random_state(random_state))
    return np.roll(data, int(shift), axis=-1)


def _segment_permutation(n_times: int, n_segments: int, rng) -> np.ndarray:
    if not 2 <= n_segments <= n_times:
        raise ValueError(f"n_segments must be between 2 and n_times ({n_times}); got {n_segments}")
    edges = np.linspace(0, n_times, n_segments + 1).round().astype(int)
    order = rng.permutation(n_segments)
    while n_segments > 1 and np.array_equal(order, np.arange(n_segments)):
        order = rng.permutation(n_segments)
    return np.concatenate([np.arange(edges[k], edges[k + 1]) for k in order])


def segment_shuffle(
    data,
    n_segments: int = 10,
    *,
    random_state=None,
) -> np.ndarray:
    """Cut signals into ``n_segments`` equal segments and put them back in a random order.

    Every channel gets the same permutation (the within-brain structure of each segment is
    kept); the identity permutation is never returned.

    Parameters
    ----------
    data : array, shape (..., n_times)
        Signals.
    n_segments : int
        Number of segments (>= 2).
    random_state : None | int | numpy.random.Generator
        Seed.

    Returns
    -------
    surrogate : ndarray, same shape as ``data``
        The segments of ``data`` in a random (non-identity) order.
    """
    data = _check_signal(data)
    idx = _segment_permutation(data.shape[-1], int(n_segments), check_random_state(random_state))
    return data[..., idx]


def _check_n_surrogates(n) -> int:
    try:
        _validate_type(n, "int-like", "n_surrogates")
    except TypeError as err:
        raise TypeError(f"{err}; pass a whole number, e.g. n_surrogates=100") from None
    if n < 1:
        raise ValueError(f"n_surrogates must be an integer >= 1; got {n!r}")
    return int(n)


def make_surrogates(
    data,
    method: str = "phase_randomization",
    n_surrogates: int = 1,
    *,
    multivariate: bool = False,
    shift: int | None = None,
    min_shift: int = 0,
    n_segments: int = 10,
    random_state=None,
) -> np.ndarray:
    """Array surrogates: ``n_surrogates`` transformed copies of ``data``.

    Parameters
    ----------
    data : array, shape (..., n_times)
        Signals.
    method : 'phase_randomization' | 'circular_shift' | 'segment_shuffle'
        See :func:`phase_randomize`, :func:`circular_shift`, :func:`segment_shuffle`.
    n_surrogates : int
        Number of surrogates.
    multivariate, shift, min_shift, n_segments
        Passed to the method's function.
    random_state : None | int | numpy.random.Generator
        Seed.

    Returns
    -------
    surrogates : ndarray, shape (n_surrogates, ..., n_times)
        One transformed copy of ``data`` per surrogate, independent draws.
    """
    check_option("method", method, SURROGATE_METHODS[:3])
    _check_n_surrogates(n_surrogates)
    rng = check_random_state(random_state)
    out = []
    for _ in range(int(n_surrogates)):
        if method == "phase_randomization":
            out.append(phase_randomize(data, multivariate=multivariate, random_state=rng))
        elif method == "circular_shift":
            out.append(circular_shift(data, shift, min_shift=min_shift, random_state=rng))
        else:
            out.append(segment_shuffle(data, n_segments, random_state=rng))
    return np.stack(out)
