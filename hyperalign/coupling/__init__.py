"""Inter-brain synchrony: metrics registry, band filtering, results container.

Core (this package's engine): :func:`compute_sync` on HyPyP-shaped arrays
``(2, n_epochs, n_channels, n_times)``, :func:`compute_sync_epochs` on a pair of
:class:`mne.Epochs`, the lower-level :func:`analytic_signal` and :func:`sync_from_analytic`,
the :data:`METRICS` registry and :data:`DEFAULT_BANDS`; results in :class:`Coupling`.
Built on it: per-utterance dyad synchrony (:func:`compute_dyad_sync`), surrogates, utterance
summaries, slow-signal measures (lagged ISC/ISFC, wavelet coherence), synchrony across epochs
(:func:`sync_across_epochs`, mne-connectivity's ``spectral_connectivity_epochs``
definitions) and plots.
"""

from .across_epochs import epoch_spectra, sync_across_epochs
from .dyad_sync import compute_dyad_sync
from .metrics import METRICS, compute_sync, compute_sync_epochs, resolve_metric, sync_from_analytic
from .plot import plot_coupling_matrix, plot_lag_profile
from .results import Coupling, read_coupling
from .slow import WaveletCoherenceResult, lagged_correlation, wavelet_coherence
from .spectral import DEFAULT_BANDS, analytic_signal
from .summary import summarize_utterances
from .surrogates import compute_surrogate_sync, make_surrogates, surrogate_zscore

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
