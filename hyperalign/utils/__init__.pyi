__all__ = [
    "logger",
    "set_log_level",
    "verbose_context",
    "progress",
    "ExclusionLog",
    "check_random_state",
    "check_option",
    "check_positive",
    "atomic_write",
    "atomic_path",
    "verbose",
    "fill_doc",
    "docdict",
    "_validate_type",
    "check_n_jobs",
    "available_cores",
    "blas_limits",
    "check_threads",
    "single_thread_blas",
    "thread_pool",
]

from ._docs import docdict, fill_doc
from ._exclusions import ExclusionLog
from ._logging import logger, set_log_level, verbose, verbose_context
from ._parallel import (
    available_cores,
    blas_limits,
    check_threads,
    single_thread_blas,
    thread_pool,
)
from ._progress import progress
from ._validation import (
    _validate_type,
    atomic_path,
    atomic_write,
    check_n_jobs,
    check_option,
    check_positive,
    check_random_state,
)
