__all__ = [
    "METRICS",
    "DEFAULT_BANDS",
    "Coupling",
    "WaveletCoherenceResult",
    "analytic_signal",
    "compute_dyad_sync",
    "compute_surrogate_sync",
    "compute_sync",
    "compute_sync_epochs",
    "epoch_spectra",
    "lagged_correlation",
    "make_surrogates",
    "plot_coupling_matrix",
    "plot_lag_profile",
    "read_coupling",
    "resolve_metric",
    "summarize_utterances",
    "surrogate_zscore",
    "sync_across_epochs",
    "sync_from_analytic",
    "wavelet_coherence",
]

from .across_epochs import epoch_spectra, sync_across_epochs
from .dyad_sync import compute_dyad_sync
from .metrics import METRICS, compute_sync, compute_sync_epochs, resolve_metric, sync_from_analytic
from .plot import plot_coupling_matrix, plot_lag_profile
from .results import Coupling, read_coupling
from .slow import WaveletCoherenceResult, lagged_correlation, wavelet_coherence
from .spectral import DEFAULT_BANDS, analytic_signal
from .summary import summarize_utterances
from .surrogates import compute_surrogate_sync, make_surrogates, surrogate_zscore
