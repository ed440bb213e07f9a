"""numba loops of the NumPy backend (imported only when numba is installed).

Each loop is compiled in two variants: ``parallel`` (``prange`` over (epoch, channel) rows on
numba's thread pool) and ``serial`` (the calling thread, GIL released, for callers that split
epochs over their own threads). Both are compiled with ``cache=True``, so a new process loads
them from ``__pycache__`` instead of paying seconds of compilation per metric. The variants are
distinct function objects (their own cache files): numba's cache would otherwise hand one
variant's machine code to the other.
"""

from __future__ import annotations

import types

import numba
import numpy as np

# no 'contract' (FMA) so that s1*c2 - c1*s2 rounds exactly like NumPy (signs near 0)
_FASTMATH = {"reassoc", "nsz"}


def _abs_sum_kernel(xv, yv, out, out_sum, sym):  # pragma: no cover - compiled
    # wPLI's denominator and numerator in one pass: sum |Im(x conj y)| and sum Im(x conj y)
    n_ep, n1, n_t2 = xv.shape
    n_t = n_t2 // 2
    n2 = yv.shape[1]
    for p in numba.prange(n_ep * n1):
        e = p // n1
        i = p % n1
        for k in range(i if sym else 0, n2):
            acc = 0.0
            acc_s = 0.0
            for t in range(n_t):
                v = xv[e, i, 2 * t + 1] * yv[e, k, 2 * t] - xv[e, i, 2 * t] * yv[e, k, 2 * t + 1]
                acc += abs(v)
                acc_s += v
            out[e, i, k] = acc
            out_sum[e, i, k] = acc_s
            if sym:
                out[e, k, i] = acc
                out_sum[e, k, i] = -acc_s


def _sign_kernel(xv, yv, out, sym):  # pragma: no cover - compiled
    n_ep, n1, n_t2 = xv.shape
    n_t = n_t2 // 2
    n2 = yv.shape[1]
    for p in numba.prange(n_ep * n1):
        e = p // n1
        i = p % n1
        for k in range(i if sym else 0, n2):
            acc = 0.0
            for t in range(n_t):
                v = xv[e, i, 2 * t + 1] * yv[e, k, 2 * t] - xv[e, i, 2 * t] * yv[e, k, 2 * t + 1]
                acc += (v > 0) - (v < 0)
            out[e, i, k] = acc
            if sym:  # Im(y conj x) = -Im(x conj y)
                out[e, k, i] = -acc


def _csin_kernel(xv, out, nv):  # pragma: no cover - compiled
    # sin(phase - circular mean phase) = (xi mr - xr mi) / |x|, m = unit mean phasor;
    # samples t >= nv[e] are zero padding (ragged epochs): output 0 there
    n_ep, n_ch, n_t = out.shape
    for p in numba.prange(n_ep * n_ch):
        e = p // n_ch
        c = p % n_ch
        n = nv[e]
        mr = 0.0
        mi = 0.0
        for t in range(n):
            re = xv[e, c, 2 * t]
            im = xv[e, c, 2 * t + 1]
            inv = 1.0 / np.sqrt(re * re + im * im)
            out[e, c, t] = inv
            mr += re * inv
            mi += im * inv
        norm = np.sqrt(mr * mr + mi * mi)
        mr /= norm
        mi /= norm
        for t in range(n):
            out[e, c, t] = (xv[e, c, 2 * t + 1] * mr - xv[e, c, 2 * t] * mi) * out[e, c, t]
        for t in range(n, n_t):
            out[e, c, t] = 0.0


def _env_kernel(xv, out, power, nv):  # pragma: no cover - compiled
    # rows of |x| (or |x|^2), centred and scaled to unit norm: Pearson r is then a product;
    # samples t >= nv[e] are zero padding (ragged epochs): output 0 there
    n_ep, n_ch, n_t = out.shape
    for p in numba.prange(n_ep * n_ch):
        e = p // n_ch
        c = p % n_ch
        n = nv[e]
        acc = 0.0
        for t in range(n):
            re = xv[e, c, 2 * t]
            im = xv[e, c, 2 * t + 1]
            v = re * re + im * im
            if not power:
                v = np.sqrt(v)
            out[e, c, t] = v
            acc += v
        mean = acc / n
        ss = 0.0
        for t in range(n):
            v = out[e, c, t] - mean
            out[e, c, t] = v
            ss += v * v
        scale = 1.0 / np.sqrt(ss) if ss > 0 else np.nan
        for t in range(n):
            out[e, c, t] *= scale
        for t in range(n, n_t):
            out[e, c, t] = 0.0


def _variant(f, suffix: str):
    g = types.FunctionType(f.__code__, f.__globals__, f.__name__ + suffix, f.__defaults__)
    g.__qualname__ = f.__qualname__ + suffix
    g.__module__ = f.__module__
    return g


def _compile(parallel: bool) -> dict:
    opts = {"parallel": True} if parallel else {"nogil": True}
    suffix = "_parallel" if parallel else "_serial"
    return {
        name: numba.njit(fastmath=_FASTMATH, cache=True, **opts)(_variant(f, suffix))
        for name, f in (
            ("abs_sum", _abs_sum_kernel),
            ("sign", _sign_kernel),
            ("csin", _csin_kernel),
            ("env", _env_kernel),
        )
    }


KERNELS = {True: _compile(True), False: _compile(False)}
