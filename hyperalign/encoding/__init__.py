"""Encoding models: map feature spaces onto each brain, lag by lag, out of fold.

Solvers (:func:`ridge_cv`, :func:`nested_ridge_cv`; NumPy or torch per call), word-level
lagged encoding (:func:`fit_word_encoding`, presets ``'zada2024'`` and ``'goldstein2022'``),
folds on the clock shared by roles, brains and layers (:func:`make_folds`), results in
:class:`EncodingResult`.
"""

from ._wordfit import DEFAULT_ALPHAS, fit_word_arrays, fit_word_encoding
from .b2b import (
    B2BCoupling,
    TransferLatency,
    b2b_arrays,
    b2b_group_test,
    fit_b2b_coupling,
    plot_b2b_map,
    read_b2b,
    transfer_latency,
)
from .banded import BandedRidgeFit, NestedBandedFit, banded_ridge_cv, nested_banded_ridge_cv
from .controls import acoustic_word_features, noise_ceiling, self_predictability
from .delays import delay_samples, make_delayed
from .fir import average_resample, event_features, fit_fir, lanczos_resample
from .hierarchy import (
    HierarchyTest,
    best_layer,
    depth_lag_correlation,
    hierarchy_test,
    layer_profile,
    layer_profiles,
)
from .plot import plot_lag_curves, plot_partition, plot_score_topomap
from .result import EncodingResult, concat_results, read_encoding
from .ridge import SOLVERS, NestedRidgeFit, RidgeCVFit, nested_ridge_cv, ridge_cv
from .scores import correlation_score, r2_score, r2_score_split, variance_partition
from .significance import (
    bootstrap_ci,
    group_test,
    null_scores,
    null_targets,
    partition_variance,
    pvalues,
)
from .splitters import (
    Folds,
    LeakageError,
    check_leakage,
    make_folds,
    make_group_folds,
    shuffled_folds,
)
from .sweep import LayerSweep, sweep_arrays, sweep_layers
from .trf import DEFAULT_TRF_ALPHAS, fit_trf, word_impulses
from .wordlevel import (
    LAG_PRESETS,
    WordLags,
    make_word_folds,
    resolve_lags,
    word_features,
    word_windows,
)

__all__ = [
    "DEFAULT_ALPHAS",
    "LAG_PRESETS",
    "EncodingResult",
    "Folds",
    "LeakageError",
    "NestedRidgeFit",
    "RidgeCVFit",
    "WordLags",
    "check_leakage",
    "concat_results",
    "fit_word_encoding",
    "fit_trf",
    "word_impulses",
    "plot_lag_curves",
    "plot_partition",
    "plot_score_topomap",
    "fit_fir",
    "event_features",
    "lanczos_resample",
    "average_resample",
    "DEFAULT_TRF_ALPHAS",
    "delay_samples",
    "make_delayed",
    "fit_word_arrays",
    "bootstrap_ci",
    "group_test",
    "null_scores",
    "null_targets",
    "pvalues",
    "partition_variance",
    "make_folds",
    "make_word_folds",
    "make_group_folds",
    "nested_ridge_cv",
    "read_encoding",
    "resolve_lags",
    "ridge_cv",
    "SOLVERS",
    "BandedRidgeFit",
    "NestedBandedFit",
    "banded_ridge_cv",
    "nested_banded_ridge_cv",
    "correlation_score",
    "r2_score",
    "r2_score_split",
    "variance_partition",
    "shuffled_folds",
    "word_features",
    "word_windows",
    "LayerSweep",
    "sweep_layers",
    "sweep_arrays",
    "HierarchyTest",
    "best_layer",
    "depth_lag_correlation",
    "hierarchy_test",
    "layer_profile",
    "layer_profiles",
    "acoustic_word_features",
    "noise_ceiling",
    "self_predictability",
    "B2BCoupling",
    "TransferLatency",
    "b2b_arrays",
    "b2b_group_test",
    "fit_b2b_coupling",
    "plot_b2b_map",
    "read_b2b",
    "transfer_latency",
]
