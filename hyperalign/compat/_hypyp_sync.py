"""HyPyP's metric classes (``hypyp.sync.PLV`` ...) on hyperalign's kernels.

``Metric(optimization=None).compute(complex_signal, n_samp, transpose_axes)`` takes HyPyP's
internal layout ``(n_epochs, n_freq, n_nodes, n_times)`` and returns ``(n_epochs, n_freq,
n_nodes, n_nodes)``, as HyPyP's classes do; the values come from
:func:`hyperalign.coupling.sync_from_analytic`. Only the computation is provided, not HyPyP's
backend-dispatch machinery (kernels, Metal, priority tables).
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "ACCorr",
    "CCorr",
    "Coh",
    "EnvCorr",
    "ImCoh",
    "PLI",
    "PLV",
    "PowCorr",
    "WPLI",
    "get_metric",
]


class _Metric:
    """A HyPyP metric computed by hyperalign (see the module docstring)."""

    name = ""
    metric = ""

    def __init__(self, optimization=None, priority=None, show_progress: bool = False):
        from .hypyp import _resolve_optimization

        self.optimization = optimization
        self._priority = priority
        backend, device, use_numba = _resolve_optimization(optimization, priority, self.name)
        self._backend = "numba" if use_numba else backend
        self._device = device or "cpu"
        self._engine = (backend, device, use_numba)

    def compute(self, complex_signal, n_samp=None, transpose_axes=None) -> np.ndarray:
        """(n_epochs, n_freq, n_nodes, n_times) analytic signals -> (E, F, nodes, nodes)."""
        from .hypyp import _sync_per_freq

        cs = np.asarray(complex_signal)
        if cs.ndim != 4:
            raise ValueError(
                f"complex_signal must be (n_epochs, n_freq, n_nodes, n_times); got {cs.shape}"
            )
        return _sync_per_freq(cs, self.metric, *self._engine).swapaxes(0, 1)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(optimization={self.optimization!r})"


def _make(cls_name: str, mode: str, metric: str):
    return type(cls_name, (_Metric,), {"name": mode, "metric": metric, "__doc__": _Metric.__doc__})


PLV = _make("PLV", "plv", "plv")
CCorr = _make("CCorr", "ccorr", "ccorr")
ACCorr = _make("ACCorr", "accorr", "accorr")
Coh = _make("Coh", "coh", "coh")
ImCoh = _make("ImCoh", "imcoh", "imcoh")
PLI = _make("PLI", "pli", "pli")
WPLI = _make("WPLI", "wpli", "wpli")
EnvCorr = _make("EnvCorr", "envcorr", "envelope_corr")
PowCorr = _make("PowCorr", "powcorr", "pow_corr")

METRICS = {c.name: c for c in (PLV, CCorr, ACCorr, Coh, ImCoh, PLI, WPLI, EnvCorr, PowCorr)}
METRIC_ALIASES = {"envelope_corr": "envcorr", "pow_corr": "powcorr", "imaginary_coh": "imcoh"}


def get_metric(mode: str, optimization=None, priority=None) -> _Metric:
    """A metric object by HyPyP mode name (aliases accepted), as ``hypyp.sync.get_metric``.

    Parameters
    ----------
    mode : str
        ``'plv'``, ``'ccorr'``, ``'accorr'``, ``'coh'``, ``'imcoh'``, ``'pli'``, ``'wpli'``,
        ``'envcorr'``, ``'powcorr'`` or an alias.
    optimization : None | 'auto' | 'numba' | 'torch' | 'metal' | 'cuda_kernel'
        See :func:`hyperalign.compat.hypyp.compute_sync`.
    priority : list | None
        Accepted, not used.

    Returns
    -------
    metric : object with ``compute(complex_signal, n_samp, transpose_axes)``
    """
    key = mode.lower()
    key = key if key in METRICS else METRIC_ALIASES.get(key, key)
    if key not in METRICS:
        raise ValueError(f"Unknown metric mode '{mode}'. Available: {', '.join(METRICS)}")
    return METRICS[key](optimization=optimization, priority=priority)
