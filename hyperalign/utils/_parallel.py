"""Threads and BLAS: the process's worker-thread pools, core counts and BLAS thread limits.

One place for the parallelism helpers of the compute kernels (issue 11): ``n_jobs`` follows
joblib (:func:`~hyperalign.utils.check_n_jobs`); threads inside a call split the work and each
runs a single-threaded BLAS (:func:`blas_limits`), which is many times faster than a
multi-threaded BLAS on the small per-epoch products of the kernels, above all on busy cores.
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Iterator

_POOLS: dict = {}


def thread_pool(n: int):
    """The process's pool of ``n`` worker threads (created on first use).

    A forked child starts with no pool: the parent's threads do not survive a fork.

    Parameters
    ----------
    n : int
        Number of worker threads.

    Returns
    -------
    pool : concurrent.futures.ThreadPoolExecutor
        The shared pool (one per size and process).
    """
    pool = _POOLS.get(n)
    if pool is None:
        from concurrent.futures import ThreadPoolExecutor

        pool = _POOLS[n] = ThreadPoolExecutor(max_workers=n, thread_name_prefix="hyperalign")
    return pool


if hasattr(os, "register_at_fork"):  # pragma: no branch - POSIX
    os.register_at_fork(after_in_child=_POOLS.clear)


def available_cores() -> int:
    """CPU cores this process may run on (its affinity mask where the OS reports one).

    Returns
    -------
    n : int
        Number of cores, at least 1.
    """
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def check_threads(n_threads) -> int:
    """Threads for a call: a positive int, or ``None`` for every available core.

    Parameters
    ----------
    n_threads : int | None
        Requested number of threads; ``None`` means every available core.

    Returns
    -------
    n : int
        Number of threads, at least 1.
    """
    if n_threads is None:
        return available_cores()
    if isinstance(n_threads, bool) or int(n_threads) != n_threads or int(n_threads) < 1:
        raise ValueError(f"n_threads must be a positive integer or None; got {n_threads!r}")
    return int(n_threads)


@functools.cache
def _threadpool_controller():
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # pragma: no cover - threadpoolctl ships with scikit-learn
        return None
    return ThreadpoolController()


def blas_limits(n_threads=1):
    """Limit BLAS threads (threadpoolctl); call ``.restore_original_limits()`` to undo.

    Parameters
    ----------
    n_threads : int | None
        BLAS threads (``None``: 1).

    Returns
    -------
    limiter : threadpoolctl limiter | None
        ``None`` when threadpoolctl is not installed.
    """
    if n_threads is not None and int(n_threads) < 1:
        raise ValueError(f"n_threads must be a positive integer or None; got {n_threads!r}")
    ctrl = _threadpool_controller()
    if ctrl is None:  # pragma: no cover
        return None
    return ctrl.limit(limits=int(n_threads) if n_threads else 1, user_api="blas")


@contextlib.contextmanager
def single_thread_blas(enabled: bool = True) -> Iterator[None]:
    """Context manager: one BLAS thread inside (nothing when ``enabled`` is False).

    Parameters
    ----------
    enabled : bool
        Apply the limit.

    Yields
    ------
    None
    """
    limiter = blas_limits(1) if enabled else None
    try:
        yield
    finally:
        if limiter is not None:
            limiter.restore_original_limits()
