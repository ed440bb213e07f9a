__all__ = [
    "AnalysisTableError",
    "BootstrapResult",
    "CommonalityResult",
    "LRTResult",
    "R2Result",
    "SignFlipResult",
    "VariancePartitionResult",
    "MixedModelResult",
    "PermutationPlan",
    "SemanticTestResult",
    "batch_lrt",
    "build_analysis_table",
    "cluster_bootstrap",
    "commonality",
    "correct_pvalues",
    "dyad_slopes",
    "fit_mixed",
    "lrt",
    "maxstat_pvalues",
    "permutation_pvalues",
    "r2_nakagawa",
    "sign_flip_test",
    "simulate_analysis_table",
    "test_semantic_beyond_acoustics",
    "variance_partition",
]

from ._results import (
    BootstrapResult,
    CommonalityResult,
    LRTResult,
    R2Result,
    SignFlipResult,
    VariancePartitionResult,
)
from .analysis import SemanticTestResult, test_semantic_beyond_acoustics
from .bootstrap import cluster_bootstrap, dyad_slopes, sign_flip_test
from .correction import correct_pvalues, maxstat_pvalues, permutation_pvalues
from .mixed import (
    AnalysisTableError,
    MixedModelResult,
    build_analysis_table,
    fit_mixed,
    lrt,
    r2_nakagawa,
)
from .partition import commonality, variance_partition
from .permutation import PermutationPlan, batch_lrt
from .simulate import simulate_analysis_table
