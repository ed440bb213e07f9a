"""Shared pieces of the HyPyP drop-in: mode names, ``optimization``, the 5-D layout, kernels.

(Private; :mod:`hyperalign.compat.hypyp` is the public module.)
"""

from __future__ import annotations

import warnings

import numpy as np

__all__ = ["HYPYP_MODES", "OPTIMIZATIONS"]

#: HyPyP mode name (and alias) -> hyperalign metric name
HYPYP_MODES: dict[str, str] = {
    "plv": "plv",
    "ccorr": "ccorr",
    "accorr": "accorr",
    "coh": "coh",
    "imcoh": "imcoh",
    "imaginary_coh": "imcoh",
    "pli": "pli",
    "wpli": "wpli",
    "envcorr": "envelope_corr",
    "envelope_corr": "envelope_corr",
    "powcorr": "pow_corr",
    "pow_corr": "pow_corr",
}

#: HyPyP's ``optimization`` values
OPTIMIZATIONS = (None, "auto", "numba", "torch", "metal", "cuda_kernel")


def _resolve_optimization(optimization, priority, metric: str) -> tuple[str, str | None, bool]:
    """HyPyP's ``optimization`` -> (backend, device, use_numba), with HyPyP's warnings."""
    if priority is not None and not isinstance(priority, list | tuple):
        raise TypeError(f"priority must be a list of backend names or None; got {priority!r}")
    if optimization is None:
        return "numpy", None, False
    if optimization not in OPTIMIZATIONS:
        raise ValueError(
            f"Unknown optimization '{optimization}'. Options: None, 'auto', 'numba', 'torch', "
            "'metal', 'cuda_kernel'"
        )
    from ..coupling.backend import get_backend

    def numba_ok() -> bool:
        return bool(getattr(get_backend("numpy"), "use_numba", False))

    def torch_device():
        try:
            import torch
        except ImportError:
            return None
        return "cuda" if torch.cuda.is_available() else "cpu"

    if optimization == "numba":
        if not numba_ok():
            warnings.warn("numba not installed, falling back to numpy", UserWarning, 3)
        return "numpy", None, numba_ok()
    if optimization in ("torch", "auto"):
        dev = torch_device()
        if optimization == "auto" and dev != "cuda":
            warnings.warn(
                "No GPU available. optimization='auto' selects the best GPU backend. Use "
                "optimization='numba' for CPU parallelism or optimization=None for numpy.",
                UserWarning,
                3,
            )
            return "numpy", None, numba_ok()
        if dev is None:
            warnings.warn("torch not installed, falling back to numpy", UserWarning, 3)
            return "numpy", None, False
        if dev == "cpu":
            warnings.warn("No GPU found, using torch on CPU", UserWarning, 3)
        return "torch", dev, False
    # 'metal' (Apple GPUs) and 'cuda_kernel' (CuPy kernels): hyperalign's GPU path is torch
    dev = torch_device()
    if dev == "cuda" and optimization == "cuda_kernel":
        return "torch", "cuda", False
    warnings.warn(
        f"{metric!r} has no {optimization} implementation in hyperalign, falling back to "
        "numpy. Use optimization='torch' for the GPU path.",
        UserWarning,
        3,
    )
    return "numpy", None, False


def _check_5d(complex_signal, name: str = "complex_signal") -> np.ndarray:
    cs = np.asarray(complex_signal)
    if cs.ndim != 5:
        # HyPyP indexes shape[4] and fails with IndexError: same type, with a useful message
        raise IndexError(
            f"{name} must be shaped (2, n_epochs, n_channels, n_freq, n_times) as "
            f"compute_freq_bands returns; got shape {cs.shape}"
        )
    if cs.shape[0] != 2:
        raise ValueError(
            f"{name} must hold 2 participants on its first axis; got shape {cs.shape}"
        )
    return cs


def _sync_per_freq(values, metric, backend, device, use_numba) -> np.ndarray:
    """values (n_epochs, n_freq, n_nodes, n_times) -> (n_freq, n_epochs, n_nodes, n_nodes)."""
    from ..coupling.metrics import sync_from_analytic

    n_epoch, n_freq, n_nodes, _ = values.shape
    out = None
    with np.errstate(divide="ignore", invalid="ignore"):
        for f in range(n_freq):
            x = np.ascontiguousarray(values[:, f])
            con = sync_from_analytic(
                x, x, metric, backend=backend, device=device, use_numba=use_numba
            )
            if metric in _ZERO_AT_ZERO_ROWS:
                _hypyp_zero_rows(x, con)
            if out is None:
                out = np.empty((n_freq, n_epoch, n_nodes, n_nodes), dtype=con.dtype)
            out[f] = con
    return out


#: metrics whose HyPyP value is 0, not NaN, for a pair with an all-zero signal (a flat channel
#: after filtering): PLI sums sign(0) = 0, wPLI's 0/0 is set to 0
_ZERO_AT_ZERO_ROWS = ("pli", "wpli")


def _hypyp_zero_rows(x, con) -> None:
    """HyPyP's value (0) for PLI / wPLI pairs involving an all-zero row of ``x`` (E, N, T),
    in place, whatever NaN policy the engine applies to flat channels."""
    zero = ~np.any(x != 0, axis=-1)  # (E, N)
    if zero.any():
        con[zero[:, :, None] | zero[:, None, :]] = 0.0
