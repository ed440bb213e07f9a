"""Inter-brain synchrony: metrics registry, band filtering, results container.

Core (this package's engine): :func:`compute_sync` on HyPyP-shaped arrays
``(2, n_epochs, n_channels, n_times)``, :func:`compute_sync_epochs` on a pair of
:class:`mne.Epochs`, the lower-level :func:`analytic_signal` and :func:`sync_from_analytic`,
the :data:`METRICS` registry and :data:`DEFAULT_BANDS`; results in :class:`Coupling`.
"""

from .metrics import METRICS, compute_sync, compute_sync_epochs, resolve_metric, sync_from_analytic
from .results import Coupling, read_coupling
from .spectral import DEFAULT_BANDS, analytic_signal

__all__ = [
    "METRICS",
    "DEFAULT_BANDS",
    "Coupling",
    "analytic_signal",
    "compute_sync",
    "compute_sync_epochs",
    "read_coupling",
    "resolve_metric",
    "sync_from_analytic",
]

# higher-level tools built on the engine (other modules of this package); imported tolerantly
# so that the engine stays usable while they are developed
_OPTIONAL = {
    "dyad_sync": ["compute_dyad_sync"],
    "surrogates": ["make_surrogates", "surrogate_zscore"],
    "summary": ["summarize_utterances"],
    "slow": ["lagged_correlation", "wavelet_coherence"],
    "plot": ["plot_coupling_matrix", "plot_lag_profile"],
}


def _import_optional() -> None:
    import importlib

    for mod, names in _OPTIONAL.items():
        try:
            m = importlib.import_module(f"{__name__}.{mod}")
        except ImportError as err:  # module not there yet
            if getattr(err, "name", None) not in (f"{__name__}.{mod}",):
                from ..utils import logger

                logger.debug("hyperalign.coupling.%s could not be imported: %s", mod, err)
            continue
        for n in names:
            if hasattr(m, n):
                globals()[n] = getattr(m, n)
                __all__.append(n)


_import_optional()
