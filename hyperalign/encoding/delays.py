"""Time delays that never cross a recording, run or trial boundary, and their Gram matrices.

A delayed design has one column per (feature, delay) pair (feature-major, as MNE's
``ReceptiveField``): column ``f * n_delays + i`` holds ``x_f(t - d_i)``, zero where
``t - d_i`` falls outside the segment (run/trial) that contains ``t``. The common delayer
shifts across run boundaries; this one zero-fills there.

For long recordings the design is never formed: :func:`lagged_stats` returns its Gram
matrix, its cross-products with the targets and its column sums over any range of rows from
``n_delays`` matrix products plus a recursion along the Toeplitz diagonals
(``G[i+1, j+1] = G[i, j] + x(a-1-d_i) x(a-1-d_j)^T - x(b-1-d_i) x(b-1-d_j)^T``).
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

__all__ = ["delay_samples", "make_delayed", "split_segments", "lagged_stats"]


def delay_samples(tmin: float, tmax: float, sfreq: float) -> np.ndarray:
    """Delays in samples, from ``round(tmin * sfreq)`` to ``round(tmax * sfreq)`` (as MNE).

    Parameters
    ----------
    tmin, tmax : float
        First and last delay (s); a positive delay means the target follows the feature.
    sfreq : float
        Sampling rate (Hz).

    Returns
    -------
    delays : ndarray of int
        Delays in samples, from ``round(tmin * sfreq)`` to ``round(tmax * sfreq)``.
    """
    if not np.isfinite(tmin) or not np.isfinite(tmax) or tmin > tmax:
        raise ValueError(f"tmin must be <= tmax (seconds); got tmin={tmin}, tmax={tmax}")
    return np.arange(int(np.round(tmin * sfreq)), int(np.round(tmax * sfreq)) + 1)


def split_segments(n_times: int, segments=None) -> list[tuple[int, int]]:
    """Segment ``[start, stop)`` sample ranges from boundary samples (runs, trials).

    Parameters
    ----------
    n_times : int
        Number of samples.
    segments : array-like of int | None
        Samples where a new run or trial starts; ``None`` is one segment.

    Returns
    -------
    ranges : list of (int, int)
        The non-empty ``[start, stop)`` ranges, in order.
    """
    if segments is None:
        return [(0, int(n_times))]
    b = np.unique(np.asarray(segments, dtype=int))
    if b.size and (b.min() < 0 or b.max() > n_times):
        raise ValueError(
            f"segments must be sample indices within [0, {n_times}] where runs start; got "
            f"{b.min()}..{b.max()}"
        )
    edges = np.unique(np.r_[0, b, n_times])
    return [(int(a), int(c)) for a, c in zip(edges[:-1], edges[1:]) if c > a]


def make_delayed(X: np.ndarray, delays, *, segments=None) -> np.ndarray:
    """The delayed design ``(n_times, n_features * n_delays)``, zero-filled at segment edges.

    Parameters
    ----------
    X : ndarray, shape (n_times, n_features)
        Features.
    delays : array-like of int
        Delays in samples.
    segments : array-like of int | None
        Samples where a new run/trial starts: no delay crosses them.

    Returns
    -------
    D : ndarray, shape (n_times, n_features * n_delays)
        Delayed copies of the features: column ``f * n_delays + i`` is feature ``f`` at
        ``delays[i]``.
    """
    X = np.asarray(X, dtype=float)
    if X.ndim == 1:
        X = X[:, None]
    d = np.asarray(delays, dtype=int)
    n, F = X.shape
    out = np.zeros((n, F, d.size))
    for a, b in split_segments(n, segments):
        for i, k in enumerate(d):
            if k >= 0 and k < b - a:
                out[a + k : b, :, i] = X[a : b - k]
            elif k < 0 and -k < b - a:
                out[a : b + k, :, i] = X[a - k : b]
    return out.reshape(n, F * d.size)


def lagged_stats(x: np.ndarray, y: np.ndarray | None, delays, a: int, b: int) -> dict:
    """Gram, cross-products and sums of rows ``[a, b)`` of one segment's delayed design.

    Parameters
    ----------
    x : ndarray, shape (n, F)
        One segment's features (zero outside it).
    y : ndarray, shape (n, C) | None
        The segment's targets.
    delays : array-like of int
        Consecutive delays (samples).
    a, b : int
        Row range within the segment.

    Returns
    -------
    stats : dict
        ``G`` (F*L, F*L), ``XY`` (F*L, C), ``S`` (F*L,) column sums, ``ysum`` (C,),
        ``yy`` (C,) sums of squares, ``n`` rows.
    """
    d = np.asarray(delays, dtype=int)
    L = d.size
    if L > 1 and np.any(np.diff(d) != 1):
        raise ValueError("delays must be consecutive integers")
    n, F = x.shape
    P = int(np.abs(d).max()) + 2 * L + 2
    xp = np.zeros((n + 2 * P, F))
    xp[P : P + n] = x
    m = b - a

    def rows(k):  # x(t - k) for t in [a, b)
        return xp[a - k + P : b - k + P]

    x0 = rows(d[0])
    R0 = np.empty((L, F, F))  # R0[j] = G(0, j)
    # one product per feature against [x(t - d0) | y(t)] (tall-skinny products with a wide
    # right-hand side run far faster in OpenBLAS than F-row ones)
    Z = np.ascontiguousarray(x0 if y is None else np.hstack([x0, y[a:b]]))
    XY = None if y is None else np.empty((F, L, y.shape[1]))
    for f in range(F):
        # Wf[t, j] = x_f(a + t - d_j): a sliding window over the padded column (one copy)
        col = xp[a - d[-1] + P : b - d[0] + P, f]
        Wf = np.ascontiguousarray(sliding_window_view(col, L)[:, ::-1])
        prod = Wf.T @ Z
        R0[:, :, f] = prod[:, :F]
        if y is not None:
            XY[f] = prod[:, F:]
    p = np.arange(2 * L)
    A = xp[a - 1 - d[0] - p + P]  # alpha(p) = x(a - 1 - d0 - p): (2L, F)
    B = xp[b - 1 - d[0] - p + P]
    mm, qq = np.meshgrid(np.arange(L), np.arange(L), indexing="ij")
    E = (
        A[mm + qq][..., :, None] * A[qq][..., None, :]
        - B[mm + qq][..., :, None] * B[qq][..., None, :]
    )
    C = np.zeros_like(E)
    np.cumsum(E[:, :-1], axis=1, out=C[:, 1:])  # exclusive cumulative sum over q
    ii, jj = np.tril_indices(L)
    G4 = np.empty((L, L, F, F))
    low = R0[ii - jj].transpose(0, 2, 1) + C[ii - jj, jj]
    G4[ii, jj] = low
    G4[jj, ii] = low.transpose(0, 2, 1)
    G = G4.transpose(2, 0, 3, 1).reshape(F * L, F * L)
    cs = np.zeros((xp.shape[0] + 1, F))
    np.cumsum(xp, axis=0, out=cs[1:])
    S = (cs[b - d + P] - cs[a - d + P]).T.reshape(F * L)  # (F, L) feature-major
    out = {"G": G, "S": S, "n": m}
    if y is not None:
        yb = y[a:b]
        out["XY"] = XY.reshape(F * L, -1)
        out["ysum"] = yb.sum(0)
        out["yy"] = (yb**2).sum(0)
    return out
