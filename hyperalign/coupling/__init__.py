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

from ..utils._lazy import attach_stub as _attach_stub

__getattr__, __dir__, __all__ = _attach_stub(__name__, __file__)
