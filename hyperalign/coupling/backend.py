"""Array backends for the synchrony kernels: NumPy (default) and torch (CPU or CUDA).

The metric kernels in :mod:`hyperalign.coupling.metrics` are written once against the small
operation set below; a backend is chosen per call (``backend='numpy'|'torch'``,
``device=None|'cpu'|'cuda'``) and results always come back as NumPy arrays.

The only operation that is not a matrix product is the per-sample sum behind PLI and wPLI
(``sum_t sign(Im(x conj y))`` and ``sum_t |Im(x conj y)|``). NumPy computes it by broadcasting
over bounded blocks of (epoch, channel) pairs; when :mod:`numba` is importable it is computed by a
compiled, parallel loop instead (same values to rounding; set ``use_numba=False`` to disable);
torch broadcasts in blocks on its device.
"""

from __future__ import annotations

import functools
import threading

import numpy as np

from ..utils._validation import renamed_params

__all__ = ["get_backend", "NumpyOps", "TorchOps"]

# elements of a temporary (e, C1, C2, T) block in the broadcasting fallbacks
_BLOCK_ELEMENTS = 1 << 22


class NumpyOps:
    """NumPy implementation of the kernel operations.

    Parameters
    ----------
    use_numba : bool | None
        Use the compiled numba loops (pli/wpli sums, centred sines, envelopes); ``None``:
        when numba is importable.
    parallel : bool
        Compiled loops use numba's thread pool (``True``) or run on the calling thread
        without the GIL (``False``: for callers that split epochs over their own threads).

    See Also
    --------
    get_backend, TorchOps
    """

    name = "numpy"

    def __init__(self, use_numba: bool | None = None, parallel: bool = True):
        self.use_numba = _numba_available() if use_numba is None else bool(use_numba)
        #: compiled loops use numba's thread pool (``True``) or run on the calling thread
        #: without the GIL (``False``: for callers that split epochs over their own threads)
        self.parallel = bool(parallel)

    def serial(self) -> NumpyOps:
        """The same operations with single-threaded, GIL-free compiled loops.

        Returns
        -------
        ops : NumpyOps
            A new instance with ``parallel=False`` and the same ``use_numba``.
        """
        return NumpyOps(use_numba=self.use_numba, parallel=False)

    def _kern(self, name):
        # numba's parallel loops are only launched from the main thread: its 'workqueue'
        # threading layer (used where neither OpenMP nor TBB is available) aborts on
        # concurrent launches, e.g. from Dask or joblib worker threads
        parallel = self.parallel and threading.current_thread() is threading.main_thread()
        return _numba_kernels(parallel)[name]

    # conversion --------------------------------------------------------------------------
    def asarray(self, x, ctype=None):
        return np.asarray(x) if ctype is None else np.asarray(x, dtype=ctype)

    def to_numpy(self, x) -> np.ndarray:
        return np.asarray(x)

    # elementwise / reductions ------------------------------------------------------------
    abs = staticmethod(np.abs)
    sqrt = staticmethod(np.sqrt)
    angle = staticmethod(np.angle)
    exp = staticmethod(np.exp)
    conj = staticmethod(np.conj)
    cos = staticmethod(np.cos)

    @staticmethod
    def sum(x, axis):
        return x.sum(axis=axis)

    @staticmethod
    def where_zero(den, value=1.0):
        return np.where(den == 0, value, den)

    @staticmethod
    def mT(x):
        return np.swapaxes(x, -1, -2)

    @staticmethod
    def matmul(a, b):
        return np.matmul(a, b)

    @staticmethod
    def cat(arrays, axis):
        return np.concatenate(arrays, axis=axis)

    @staticmethod
    def contig(x):
        return np.ascontiguousarray(x)

    @staticmethod
    def real_view(x):
        """(..., T) complex -> (..., 2T) real, interleaved (re, im); no copy when contiguous."""
        x = np.ascontiguousarray(x)
        return x.view(x.real.dtype)

    @staticmethod
    def times_i(x):
        """``1j * x`` computed as (-im, re) without complex arithmetic."""
        x = np.ascontiguousarray(x)
        rv = x.view(x.real.dtype).reshape(*x.shape, 2)
        out = np.empty_like(rv)
        np.negative(rv[..., 1], out=out[..., 0])
        out[..., 1] = rv[..., 0]
        return out.view(x.dtype).reshape(x.shape)

    @staticmethod
    def unit(x, n_valid=None):
        """``x / |x|`` as ``x * (1 / |x|)`` (a real reciprocal, then one multiply); 0 on the
        zero padding from ``n_valid`` (per epoch) on."""
        inv = np.abs(x)
        if n_valid is None:
            np.reciprocal(inv, out=inv)
        else:
            pad = np.broadcast_to(_pad_mask(n_valid, x.shape), x.shape)
            np.reciprocal(inv, out=inv, where=~pad)
            inv[pad] = 0.0
        return x * inv

    def centered_sin(self, x, n_valid=None):
        """``sin(phase - circular mean phase)`` per channel, from analytic signals ``x``.

        One fused compiled pass when numba is available (no phasor array), else NumPy.

        Parameters
        ----------
        x : complex ndarray, shape (n_epochs, n_channels, n_times)
            Analytic signals.
        n_valid : array of int, shape (n_epochs,) | None
            Ragged epochs: samples from ``n_valid[e]`` on are zero padding and give 0.

        Returns
        -------
        s : ndarray, shape (n_epochs, n_channels, n_times)
            The centred sines (real).
        """
        if self.use_numba:
            xv = _interleaved(x)
            out = np.empty(x.shape, dtype=xv.dtype)
            self._kern("csin")(xv, out, _valid(n_valid, x))
            return out
        return centered_sin_from_unit(self, self.unit(x, n_valid))

    def unit_envelope(self, x, power: bool = False, n_valid=None):
        """Rows of ``|x|`` (``|x|**2`` with ``power``), centred and scaled to unit norm.

        The Pearson correlation of two such rows is their dot product. One fused compiled
        pass when numba is available, else NumPy.

        Parameters
        ----------
        x : complex ndarray, shape (n_epochs, n_channels, n_times)
            Analytic signals.
        power : bool
            Use the instantaneous power ``|x|**2`` instead of the envelope ``|x|``.
        n_valid : array of int, shape (n_epochs,) | None
            Ragged epochs, as in :meth:`centered_sin`.

        Returns
        -------
        rows : ndarray, shape (n_epochs, n_channels, n_times)
            Centred rows of unit norm (0 on the padding).
        """
        if self.use_numba:
            xv = _interleaved(x)
            out = np.empty(x.shape, dtype=xv.dtype)
            self._kern("env")(xv, out, bool(power), _valid(n_valid, x))
            return out
        return unit_rows(self, self.abs(x) ** 2 if power else self.abs(x), n_valid)

    # the non-BLAS part of pli / wpli -----------------------------------------------------
    @renamed_params(kind="op")
    def im_sums(self, x, y, op: str = "sign"):
        """``sum_t f(Im(x_i(t) conj(y_k(t))))`` with ``f = sign`` or ``abs``.

        Parameters
        ----------
        x : complex ndarray, shape (n_epochs, C1, n_times)
            Analytic signals of S1.
        y : complex ndarray, shape (n_epochs, C2, n_times)
            Analytic signals of S2 (``y is x`` computes one triangle and mirrors it).
        op : 'sign' | 'abs'
            The function ``f`` summed over the samples (pli: ``'sign'``, wpli: ``'abs'``;
            called ``kind`` before, a deprecated alias).

        Returns
        -------
        sums : ndarray, shape (n_epochs, C1, C2)
            One sum per epoch and channel pair.
        """
        _check_op(op)
        if self.use_numba:
            if op == "abs":  # the one-pass loop also sums Im; the signed sum is dropped
                return self.im_abs_and_sum(x, y)[0]
            xv = _interleaved(x)
            yv = xv if y is x else _interleaved(y)
            out = np.empty((x.shape[0], x.shape[1], y.shape[1]), dtype=xv.dtype)
            # same signals (mode='all'): compute one triangle and mirror it
            self._kern(op)(xv, yv, out, y is x)
            return out
        c1, s1 = np.ascontiguousarray(x.real), np.ascontiguousarray(x.imag)
        if y is x:
            c2, s2 = c1, s1
        else:
            c2, s2 = np.ascontiguousarray(y.real), np.ascontiguousarray(y.imag)
        return _im_sums_blocked(c1, s1, c2, s2, op)

    def im_abs_and_sum(self, x, y):
        """Both sums behind wPLI in one compiled pass.

        Parameters
        ----------
        x : complex ndarray, shape (n_epochs, C1, n_times)
            Analytic signals of S1.
        y : complex ndarray, shape (n_epochs, C2, n_times)
            Analytic signals of S2.

        Returns
        -------
        sums : tuple of ndarray, shape (n_epochs, C1, C2) | None
            ``(sum_t |Im(x_i conj y_k)|, sum_t Im(x_i conj y_k))``, or ``None`` without
            numba (the caller then uses a matrix product for the second).
        """
        if not self.use_numba:
            return None
        xv = _interleaved(x)
        yv = xv if y is x else _interleaved(y)
        shape = (x.shape[0], x.shape[1], y.shape[1])
        out = np.empty(shape, dtype=xv.dtype)
        out_sum = np.empty(shape, dtype=xv.dtype)
        # same signals (mode='all'): one triangle, mirrored
        self._kern("abs_sum")(xv, yv, out, out_sum, y is x)
        return out, out_sum

    @staticmethod
    def power(x):
        """``sum_t |x|^2`` per row in one pass over the interleaved (re, im) values."""
        if x.shape[-1] and x.strides[-1] != x.itemsize:
            x = np.ascontiguousarray(x)
        xv = x.view(x.real.dtype)  # needs only the last axis to be contiguous
        return np.einsum("...t,...t->...", xv, xv)


def _blocks(n_ep: int, n1: int, n2: int, n_t: int, block: int):
    """(epoch slice, channel slice) blocks whose (e, i, n2, n_t) product stays under ``block``."""
    per_chan = max(1, n2 * n_t)
    ci = max(1, min(n1, block // per_chan))
    ce = max(1, min(n_ep, block // (per_chan * ci)))
    for e0 in range(0, n_ep, ce):
        for i0 in range(0, n1, ci):
            yield slice(e0, e0 + ce), slice(i0, i0 + ci)


def _check_op(op: str) -> None:
    """``op`` of :meth:`NumpyOps.im_sums`: ``'sign'`` or ``'abs'``."""
    if op not in ("sign", "abs"):
        raise ValueError(f"op must be 'sign' or 'abs'; got {op!r}")


def _im_sums_blocked(c1, s1, c2, s2, op):
    n_ep, n1, n_t = c1.shape
    n2 = c2.shape[1]
    out = np.empty((n_ep, n1, n2), dtype=c1.dtype)
    for e, i in _blocks(n_ep, n1, n2, n_t, _BLOCK_ELEMENTS):
        # Im(x conj y) = s1 c2 - c1 s2 (same operations, same rounding as HyPyP)
        v = s1[e, i, None, :] * c2[e, None, :, :]
        v -= c1[e, i, None, :] * s2[e, None, :, :]
        if op == "sign":
            np.sign(v, out=v)
        else:
            np.abs(v, out=v)
        out[e, i] = v.sum(axis=-1)
    return out


def _valid(n_valid, x) -> np.ndarray:
    """Valid samples per epoch as int64 (all of them when ``n_valid`` is None)."""
    if n_valid is None:
        return np.full(x.shape[0], x.shape[-1], dtype=np.int64)
    return np.ascontiguousarray(n_valid, dtype=np.int64)


def _pad_mask(n_valid, shape):
    """Boolean (E, 1, T) mask of the zero padding (samples t >= n_valid[e])."""
    return np.arange(shape[-1])[None, None, :] >= np.asarray(n_valid)[:, None, None]


def _interleaved(x) -> np.ndarray:
    """C-contiguous (..., 2T) real view of complex ``x`` (re, im interleaved); copies only when
    ``x`` is not C-contiguous (the compiled loops need unit strides to vectorize)."""
    x = np.ascontiguousarray(x)
    return x.view(x.real.dtype)


def unit_rows(ops, a, n_valid=None):
    """Centre each row of ``a`` (last axis) and scale it to unit norm (over the first
    ``n_valid[e]`` samples of epoch ``e``; the padding after them is set to 0)."""
    if n_valid is None:
        a = a - ops.sum(a, -1)[..., None] / a.shape[-1]
        return a / ops.sqrt(ops.sum(a * a, -1))[..., None]
    keep = a * 0 + ops.asarray(~_pad_mask(n_valid, a.shape))  # 1/0 in a's dtype
    a = a * keep
    a = (a - (ops.sum(a, -1) / ops.sum(keep, -1))[..., None]) * keep
    return a / ops.sqrt(ops.sum(a * a, -1))[..., None]


def centered_sin_from_unit(ops, u):
    """``sin(phase - circular mean phase)`` from unit phasors: Im(u conj(m)) = ui mr - ur mi."""
    m = ops.sum(u, -1)
    m = m / ops.abs(m)
    return u.imag * m.real[..., None] - u.real * m.imag[..., None]


@functools.cache
def _numba_available() -> bool:
    try:
        import numba  # noqa: F401
    except Exception:  # pragma: no cover - depends on the environment
        return False
    return True


@functools.cache
def _numba_kernels(parallel: bool = True) -> dict:
    """Compiled loops on interleaved (re, im) rows ``xv`` (E, C, 2T), cached on disk.

    ``parallel=True``: ``prange`` over (epoch, channel) rows on numba's thread pool.
    ``parallel=False``: the same loops on the calling thread with the GIL released, for
    callers that split epochs over their own threads.
    """
    from ._numba_kernels import KERNELS

    return KERNELS[bool(parallel)]


class TorchOps:
    """PyTorch implementation of the kernel operations (CPU or CUDA).

    Parameters
    ----------
    device : str | torch.device | None
        Torch device; ``None`` picks CUDA when available, else the CPU. ``'cuda'`` without a
        CUDA device is an error.

    See Also
    --------
    get_backend, NumpyOps
    """

    name = "torch"

    def __init__(self, device=None):
        import torch

        self.torch = torch
        if device is None:
            device = "cuda" if torch.cuda.is_available() else "cpu"
        device = torch.device(device)
        if device.type == "cuda" and not torch.cuda.is_available():
            raise RuntimeError(
                "device='cuda' was requested but torch finds no CUDA device; use device='cpu' "
                "or device=None (picks CUDA when available)"
            )
        self.device = device

    def asarray(self, x, ctype=None):
        t = self.torch.as_tensor(np.asarray(x), device=self.device)
        return t

    def to_numpy(self, x) -> np.ndarray:
        if isinstance(x, np.ndarray):
            return x
        return x.detach().cpu().numpy()

    def abs(self, x):
        return self.torch.abs(x)

    def sqrt(self, x):
        return self.torch.sqrt(x)

    def angle(self, x):
        return self.torch.angle(x)

    def exp(self, x):
        return self.torch.exp(x)

    def conj(self, x):
        return self.torch.conj(x).resolve_conj()

    def cos(self, x):
        return self.torch.cos(x)

    @staticmethod
    def sum(x, axis):
        return x.sum(dim=axis)

    def where_zero(self, den, value=1.0):
        return self.torch.where(den == 0, self.torch.ones_like(den) * value, den)

    @staticmethod
    def mT(x):
        return x.transpose(-1, -2)

    def matmul(self, a, b):
        return self.torch.matmul(a, b)

    def cat(self, arrays, axis):
        return self.torch.cat(arrays, dim=axis)

    @staticmethod
    def contig(x):
        return x.contiguous()

    def real_view(self, x):
        x = x.contiguous()
        return self.torch.view_as_real(x).reshape(*x.shape[:-1], 2 * x.shape[-1])

    @staticmethod
    def times_i(x):
        return x * 1j

    def unit(self, x, n_valid=None):
        u = x / self.torch.abs(x)
        if n_valid is not None:
            u = u.masked_fill(self.asarray(_pad_mask(n_valid, x.shape)), 0)
        return u

    def centered_sin(self, x, n_valid=None):
        return centered_sin_from_unit(self, self.unit(x, n_valid))

    def unit_envelope(self, x, power: bool = False, n_valid=None):
        return unit_rows(self, self.abs(x) ** 2 if power else self.abs(x), n_valid)

    @staticmethod
    def power(x):
        return (x.real**2 + x.imag**2).sum(dim=-1)

    @staticmethod
    def im_abs_and_sum(x, y):
        return None

    @renamed_params(kind="op")
    def im_sums(self, x, y, op: str = "sign"):
        _check_op(op)  # as NumpyOps.im_sums, in blocks on the device
        torch = self.torch
        c1, s1 = x.real.contiguous(), x.imag.contiguous()
        c2, s2 = y.real.contiguous(), y.imag.contiguous()
        n_ep, n1, n_t = c1.shape
        n2 = c2.shape[1]
        out = torch.empty((n_ep, n1, n2), dtype=c1.dtype, device=self.device)
        block = _BLOCK_ELEMENTS * (8 if self.device.type == "cuda" else 1)
        for e, i in _blocks(n_ep, n1, n2, n_t, block):
            v = s1[e, i, None, :] * c2[e, None, :, :]
            v -= c1[e, i, None, :] * s2[e, None, :, :]
            v = torch.sign(v) if op == "sign" else torch.abs(v)
            out[e, i] = v.sum(dim=-1)
        return out


def get_backend(backend: str = "numpy", device=None, use_numba: bool | None = None):
    """Return the operation set for ``backend`` ('numpy' or 'torch').

    Parameters
    ----------
    backend : 'numpy' | 'torch'
        Array library that runs the kernels.
    device : None | 'cpu' | 'cuda' | torch.device
        Torch device (``None``: CUDA when available, else CPU). Must be ``None`` or ``'cpu'``
        with ``backend='numpy'``.
    use_numba : bool | None
        NumPy backend only: use the compiled numba loop for pli/wpli when numba is importable
        (``None``: when available).

    Returns
    -------
    ops : NumpyOps | TorchOps
        The operation set the metric kernels are written against.

    See Also
    --------
    NumpyOps, TorchOps, sync_from_analytic
    """
    if backend == "numpy":
        if device not in (None, "cpu"):
            raise ValueError(
                f"device={device!r} needs backend='torch'; backend='numpy' runs on the CPU only"
            )
        return NumpyOps(use_numba=use_numba)
    if backend == "torch":
        try:
            import torch  # noqa: F401
        except ImportError as err:  # pragma: no cover - torch is installed here
            raise ImportError(
                "backend='torch' needs PyTorch: pip install torch (or use backend='numpy')"
            ) from err
        return TorchOps(device=device)
    raise ValueError(f"backend must be one of ['numpy', 'torch']; got {backend!r}")
