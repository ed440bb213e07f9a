"""Array backend and the ridge solver core shared by :mod:`ridge` and :mod:`banded`.

The core scores every penalty of a grid from one decomposition per fold, in the reduced
(k-dimensional) basis of that decomposition, never forming the full predictions:

For a training block with centred features ``Xtr`` (``n_tr x p``), a decomposition gives
``W`` (``p x k``), eigenvalues ``ev`` (``k``) and projected targets ``B`` (``k x T``) such
that the ridge coefficients at penalty ``alpha`` are ``W diag(1 / (ev + alpha)) B``:

- primal (``'svd'``, ``n_tr >= p``): ``Xtr = U S V^T``, ``W = V``, ``ev = s**2``,
  ``B = V^T Xtr^T Ytr``;
- dual (``'eigh_dual'``, ``p > n_tr``): ``Xtr Xtr^T = U diag(ev) U^T``, ``W = Xtr^T U``,
  ``B = U^T Ytr``.

The test predictions are ``P = A diag(d) B`` with ``A = Xte W`` and ``d = 1 / (ev + alpha)``.
With ``a`` the column means of ``A`` over the test rows, ``Ac = A - a`` and ``Yc`` the
test targets centred on their own means, every score needs only

- the mean prediction ``(d * a) @ B``,
- the cross-product ``sum_i Yc P = d @ (C * B)`` with ``C = Ac^T Yc`` (``k x T``),
- the sum of squares ``sum_i Pc**2 = z^T G z`` with ``z = d * b`` and ``G = Ac^T Ac``
  (``k x k``; when the test block is shorter than ``k``, ``||Ac z||**2`` instead),

so a penalty costs ``k * min(k, n_te) * T`` operations instead of ``n_te * k * T``.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import numpy as np

from ..utils import blas_limits, check_n_jobs, check_option

_BACKENDS = ("numpy", "torch", "torch_cuda")
_DTYPES = ("float64", "float32")
SCORES = ("r", "r2", "neg_mse")


def _small_lapack(a):
    """One BLAS thread for small decompositions (latency-bound; on a busy machine a second
    thread makes a 100 x 100 ``eigh`` over ten times slower)."""
    if min(a.shape) > 256:
        return contextlib.nullcontext()
    limiter = blas_limits(1)
    return contextlib.nullcontext() if limiter is None else limiter  # None: no threadpoolctl


@contextlib.contextmanager
def blas_threads(n_jobs, bk: Backend | None = None):
    """Run a block with ``n_jobs`` BLAS threads (and torch CPU threads), joblib's meaning.

    ``None`` or ``1`` is one thread: on a machine shared by several processes, one thread
    per process is often several times faster than oversubscribed cores.
    """
    n = check_n_jobs(n_jobs)
    with contextlib.ExitStack() as stack:
        limiter = blas_limits(n)
        if limiter is not None:  # threadpoolctl missing: leave BLAS as is
            stack.enter_context(limiter)
        if bk is not None and bk.is_torch and bk.device == "cpu":
            from ..backend import torch_threads

            stack.enter_context(torch_threads(n))
        yield


class Backend:
    """Thin wrapper over NumPy or torch: the few operations the solvers need.

    Parameters
    ----------
    backend : 'numpy' | 'torch' | 'torch_cuda'
        Array library.
    device : str | None
        Torch device (``None``: CUDA when available for ``'torch'``; ``'cuda'`` for
        ``'torch_cuda'``). Must be ``None`` or ``'cpu'`` for ``'numpy'``.
    dtype : 'float64' | 'float32'
        Floating point precision of the computation.
    """

    def __init__(self, backend: str = "numpy", device: str | None = None, dtype="float64"):
        check_option("backend", backend, _BACKENDS)
        dtype = np.dtype(dtype).name if not isinstance(dtype, str) else dtype
        check_option("dtype", dtype, _DTYPES)
        self.name = backend
        self.dtype_name = dtype
        self.eps = float(np.finfo(dtype).eps)
        if backend == "numpy":
            if device not in (None, "cpu"):
                raise ValueError(
                    f"device={device!r} needs a torch backend; pass backend='torch' (or "
                    "'torch_cuda') to compute on it, or device=None with backend='numpy'"
                )
            self.device = "cpu"
            self.torch = None
            self.dtype = np.dtype(dtype)
        else:
            import torch

            from ..backend import get_device

            if backend == "torch_cuda":
                device = "cuda" if device is None else device
                if not str(device).startswith("cuda"):
                    raise ValueError(
                        f"backend='torch_cuda' needs device=None or 'cuda[:N]'; got {device!r}"
                    )
            self.device = get_device(device)
            self.torch = torch
            self.dtype = getattr(torch, dtype)

    @property
    def is_torch(self) -> bool:
        return self.torch is not None

    def asarray(self, a):
        """Array on this backend's device, in its dtype."""
        if self.torch is None:
            return np.ascontiguousarray(a, dtype=self.dtype)
        if isinstance(a, self.torch.Tensor):
            return a.to(device=self.device, dtype=self.dtype)
        return self.torch.as_tensor(np.asarray(a), dtype=self.dtype, device=self.device)

    def index(self, idx):
        """Row indices usable on this backend."""
        idx = np.asarray(idx, dtype=np.int64)
        if self.torch is None:
            return idx
        return self.torch.as_tensor(idx, device=self.device)

    def to_numpy(self, a) -> np.ndarray:
        if self.torch is None:
            return np.asarray(a)
        return a.detach().cpu().numpy()

    def zeros(self, shape):
        if self.torch is None:
            return np.zeros(shape, dtype=self.dtype)
        return self.torch.zeros(shape, dtype=self.dtype, device=self.device)

    def svd(self, a):
        if self.torch is None:
            with _small_lapack(a):
                return np.linalg.svd(a, full_matrices=False)
        return self.torch.linalg.svd(a, full_matrices=False)

    def eigh(self, a):
        if self.torch is None:
            with _small_lapack(a):
                return np.linalg.eigh(a)
        return self.torch.linalg.eigh(a)

    def sqrt(self, a):
        return np.sqrt(a) if self.torch is None else self.torch.sqrt(a)

    def where(self, cond, a, b):
        if self.torch is None:
            return np.where(cond, a, b)
        b = self.torch.as_tensor(b, dtype=self.dtype, device=self.device)
        return self.torch.where(cond, a, b)

    def ptp_zero(self, a):
        """Boolean per column: the column is constant (max == min)."""
        if self.torch is None:
            return a.max(0) == a.min(0)
        return a.amax(0) == a.amin(0)


@dataclass
class Decomposition:
    """Ridge coefficients at penalty ``alpha``: ``W @ (B / (ev + alpha)[:, None])``."""

    W: object  # (p, k)
    ev: object  # (k,)
    U: object | None  # (n_tr, k), dual only
    method: str

    @property
    def k(self) -> int:
        return int(self.ev.shape[0])

    def project(self, Ytr_c, Xtr_c):
        """``B`` (k x T) for centred training targets."""
        if self.U is not None:
            return self.U.T @ Ytr_c
        return self.W.T @ (Xtr_c.T @ Ytr_c)


def _keep(ev, bk: Backend, scale: int):
    """Values above numerical zero, ``max * eps * scale`` (their directions carry no signal)."""
    top = float(ev.max()) if ev.shape[0] else 0.0
    return ev > top * bk.eps * max(scale, 1)


def solve_svd(Xtr_c, bk: Backend) -> Decomposition:
    """Primal decomposition from the SVD of the centred training features."""
    _, s, Vt = bk.svd(Xtr_c)
    keep = _keep(s, bk, max(Xtr_c.shape))  # singular values: numpy's matrix_rank tolerance
    return Decomposition(W=Vt[keep].T, ev=s[keep] ** 2, U=None, method="svd")


def solve_eigh_dual(Xtr_c, bk: Backend) -> Decomposition:
    """Dual (kernel) decomposition from the eigendecomposition of ``Xtr Xtr^T``."""
    K = Xtr_c @ Xtr_c.T
    ev, U = bk.eigh(K)
    keep = _keep(ev, bk, max(Xtr_c.shape))
    U = U[:, keep]
    return Decomposition(W=Xtr_c.T @ U, ev=ev[keep], U=U, method="eigh_dual")


#: Registry of ridge decompositions: name -> function(Xtr_centred, backend) -> Decomposition.
SOLVERS = {"svd": solve_svd, "eigh_dual": solve_eigh_dual}


def pick_solver(n_samples: int, n_features: int, solver: str = "auto") -> str:
    """``'svd'`` (primal) when samples >= features, else ``'eigh_dual'`` (kernel form)."""
    if solver == "auto":
        return "svd" if n_samples >= n_features else "eigh_dual"
    check_option("solver", solver, ["auto", *SOLVERS])
    return solver


def decompose(Xtr_c, bk: Backend, solver: str = "auto") -> Decomposition:
    return SOLVERS[pick_solver(*Xtr_c.shape, solver)](Xtr_c, bk)


class FoldScorer:
    """Scores of every penalty on one test block, from one decomposition.

    Build once per fold (``A``-side quantities), then call :meth:`score` per target batch.
    """

    def __init__(self, dec: Decomposition, Xte_c, bk: Backend):
        self.bk = bk
        self.dec = dec
        A = Xte_c @ dec.W  # (n_te, k)
        self.n_te = int(A.shape[0])
        self.a_mean = A.mean(0)
        self.Ac = A - self.a_mean
        self.use_gram = dec.k <= self.n_te
        self.G = self.Ac.T @ self.Ac if self.use_gram else None

    def score(self, B, C, Yte, ytr_mean, alphas, score: str):
        """Scores ``(n_alphas, T)`` on backend.

        ``B`` (k x T) projected training targets, ``C = Ac^T Yc`` (k x T), ``Yte`` the test
        targets, ``ytr_mean`` the training mean of the targets (same units as ``Yte``).
        Every penalty at once: ``D`` (n_alphas x k) holds ``1 / (ev + alpha)``, so the
        cross-products are one product ``D @ (C * B)`` and the prediction norms one product
        of the stacked ``(d * Ac)`` rows with ``B`` (or the Gram form per penalty).
        """
        bk = self.bk
        yte_mean = Yte.mean(0)
        Yc = Yte - yte_mean
        y2 = (Yc * Yc).sum(0)  # not ** 2: torch's float64 pow is several times slower
        y2 = bk.where(bk.ptp_zero(Yte), 0.0 * y2, y2)
        a = bk.asarray(np.asarray(alphas, dtype=float))
        D = 1.0 / (self.dec.ev[None, :] + a[:, None])  # (n_alphas, k)
        yp = D @ (C * B)
        p2 = self._norms(D, B)
        if score == "r":
            den = bk.sqrt(y2[None, :] * p2)
            ok = den > 0
            return bk.where(ok, yp / bk.where(ok, den, 1.0), 0.0)
        mp = (D * self.a_mean[None, :]) @ B
        err = y2[None, :] - 2 * yp + p2 + self.n_te * (yte_mean - ytr_mean - mp) ** 2
        if score == "r2":
            ok = y2 > 0
            return bk.where(ok[None, :], 1.0 - err / bk.where(ok, y2, 1.0)[None, :], 0.0)
        return -err / self.n_te

    def _norms(self, D, B):
        """Sum of squares of the centred test predictions, every penalty ``(n_alphas, T)``."""
        n_a, k = D.shape
        if self.use_gram:  # k <= n_te: z^T G z per penalty
            rows = []
            for i in range(n_a):
                Z = D[i][:, None] * B
                rows.append((Z * (self.G @ Z)).sum(0))
            return _stack(rows, self.bk)
        # n_te < k: the predictions of a chunk of penalties in one product, never per penalty
        step = max(1, _STACK_ROWS // self.n_te)
        rows = []
        for s in range(0, n_a, step):
            Ds = D[s : s + step]
            A = (Ds[:, None, :] * self.Ac[None, :, :]).reshape(-1, k)
            P = A @ B
            P = P * P
            rows.append(P.reshape(Ds.shape[0], self.n_te, -1).sum(1))
        return rows[0] if len(rows) == 1 else _cat(rows, self.bk)


#: Rows (penalties x test rows) of the stacked prediction product (memory: rows x targets).
_STACK_ROWS = 1024


def _stack(rows, bk):
    return np.stack(rows) if bk.torch is None else bk.torch.stack(rows)


def _cat(rows, bk):
    return np.concatenate(rows) if bk.torch is None else bk.torch.cat(rows)


def select_alphas(mean_scores: np.ndarray, alphas: np.ndarray):
    """Best penalty index per target from fold-averaged scores (himalaya's rule).

    Ties go to the larger penalty: ``log(alpha) * 1e-10`` is added before the argmax.
    """
    tilted = mean_scores + (np.log(alphas) * 1e-10)[:, None]
    idx = np.argmax(tilted, axis=0)
    best = tilted[idx, np.arange(tilted.shape[1])]
    return idx, best
