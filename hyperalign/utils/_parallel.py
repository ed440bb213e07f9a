"""Threads and BLAS: the process's worker-thread pools, core counts and BLAS thread limits.

One place for the parallelism helpers of the compute kernels (issue 11): ``n_jobs`` follows
joblib (:func:`~hyperalign.utils.check_n_jobs`); threads inside a call split the work and each
runs a single-threaded BLAS (:func:`blas_limits`), which is many times faster than a
multi-threaded BLAS on the small per-epoch products of the kernels, above all on busy cores.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import os
from collections.abc import Iterator

_POOLS: dict = {}


class _ContextPool:
    """A thread pool whose tasks run in a copy of the submitting thread's context (so a
    call's ``verbose=`` level reaches the threads it splits its work over)."""

    def __init__(self, pool):
        self._pool = pool

    def submit(self, fn, /, *args, **kwargs):
        """Schedule ``fn(*args, **kwargs)`` in a copy of the caller's context."""
        return self._pool.submit(contextvars.copy_context().run, fn, *args, **kwargs)

    def map(self, fn, *iterables):
        """``Executor.map`` with every call in a copy of the caller's context."""
        ctx = contextvars.copy_context()
        return self._pool.map(lambda *a: ctx.copy().run(fn, *a), *iterables)

    def shutdown(self, wait: bool = True) -> None:
        """Shut the underlying pool down."""
        self._pool.shutdown(wait=wait)


def thread_pool(n: int):
    """The process's pool of ``n`` worker threads (created on first use).

    Tasks run in a copy of the submitting thread's context, so the caller's ``verbose=``
    level applies in them. A forked child starts with no pool: the parent's threads do not
    survive a fork.

    Parameters
    ----------
    n : int
        Number of worker threads.

    Returns
    -------
    pool : object
        The shared pool (one per size and process), with ``submit``, ``map`` and
        ``shutdown`` as :class:`concurrent.futures.ThreadPoolExecutor`.
    """
    pool = _POOLS.get(n)
    if pool is None:
        from concurrent.futures import ThreadPoolExecutor

        pool = _POOLS[n] = _ContextPool(
            ThreadPoolExecutor(max_workers=n, thread_name_prefix="hyperalign")
        )
    return pool


def run_in_parts(func, n: int, n_parts: int) -> list:
    """``func(start, stop)`` over ``n_parts`` contiguous ranges covering ``range(n)``.

    With more than one part the ranges run on the shared pool of ``n_parts`` threads
    (:func:`thread_pool`, in the caller's context); with one, ``func(0, n)`` runs here.

    Parameters
    ----------
    func : callable
        Called as ``func(start, stop)``; it writes or returns its part.
    n : int
        Number of items.
    n_parts : int
        Number of parts (at most 1: one call in this thread).

    Returns
    -------
    results : list
        ``func``'s return values, in the order of the ranges.
    """
    if n_parts <= 1:
        return [func(0, n)]
    import numpy as np

    edges = np.linspace(0, n, n_parts + 1).round().astype(int).tolist()
    pool = thread_pool(n_parts)
    futures = [pool.submit(func, a, b) for a, b in zip(edges[:-1], edges[1:])]
    return [f.result() for f in futures]


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


# ------------------------------------------------------------------ blocks with their own seeds
def spawn_seeds(random_state, n: int) -> list:
    """``n`` independent child seeds of ``random_state`` (:meth:`numpy.random.SeedSequence.spawn`).

    Child ``i`` depends only on ``random_state`` and ``i``: work split into blocks, each drawing
    from its own child, gives the same numbers whichever worker runs which block and however
    many workers there are.

    Parameters
    ----------
    random_state : None | int | numpy.random.SeedSequence | numpy.random.Generator
        Root seed. ``None`` draws fresh entropy (not reproducible); a Generator contributes one
        draw from its stream (so it advances).
    n : int
        Number of children.

    Returns
    -------
    seeds : list of numpy.random.SeedSequence
        Pass one to :func:`numpy.random.default_rng`.
    """
    import numpy as np

    if isinstance(n, bool) or int(n) != n or int(n) < 0:
        raise ValueError(f"n must be a non-negative integer; got {n!r}")
    if isinstance(random_state, np.random.SeedSequence):
        root = random_state
    elif isinstance(random_state, np.random.Generator):
        root = np.random.SeedSequence(int(random_state.integers(2**63)))
    elif random_state is None or isinstance(random_state, int | np.integer):
        if random_state is not None and int(random_state) < 0:
            raise ValueError(f"random_state must be a non-negative int; got {random_state!r}")
        root = np.random.SeedSequence(None if random_state is None else int(random_state))
    else:
        raise TypeError(
            "random_state must be None, a non-negative int, a numpy SeedSequence or a numpy "
            f"Generator; got {type(random_state).__name__}"
        )
    return root.spawn(int(n))


def block_slices(n_items: int, block_size: int) -> list[slice]:
    """Consecutive blocks of ``block_size`` items (the last one shorter), independent of workers.

    Parameters
    ----------
    n_items : int
        Items to split (permutations, simulated studies...).
    block_size : int
        Items per block.

    Returns
    -------
    blocks : list of slice
    """
    for name, v, lo in (("n_items", n_items, 0), ("block_size", block_size, 1)):
        if isinstance(v, bool) or int(v) != v or int(v) < lo:
            raise ValueError(f"{name} must be an integer >= {lo}; got {v!r}")
    n_items, block_size = int(n_items), int(block_size)
    return [slice(a, min(a + block_size, n_items)) for a in range(0, n_items, block_size)]


def _run_block(func, block: slice, seed, kwargs):
    import numpy as np

    return func(block, np.random.default_rng(seed), **kwargs)


def map_blocks(
    func,
    n_items: int,
    *,
    block_size: int = 100,
    random_state=None,
    n_jobs: int | None = 1,
    block_kwargs=None,
    as_completed: bool = False,
    **kwargs,
):
    """Run ``func(block, rng, **kwargs)`` on fixed blocks of items, each with its own seed.

    The blocks (:func:`block_slices`) and their seeds (:func:`spawn_seeds`) depend only on
    ``n_items``, ``block_size`` and ``random_state``, never on ``n_jobs`` or on the workers, so
    the results equal a serial run's. Blocks go through joblib: inside
    :func:`hyperalign.pipeline.dask.dask_session` (a joblib Dask backend) they run on the Dask
    cluster.

    Parameters
    ----------
    func : callable
        ``func(block: slice, rng: numpy.random.Generator, **kwargs)``; picklable (a module-level
        function) for process and cluster workers.
    n_items : int
        Number of items (e.g. permutations or simulated studies).
    block_size : int
        Items per block (the unit of work sent to a worker).
    random_state : None | int | numpy.random.SeedSequence | numpy.random.Generator
        Root seed of the blocks.
    n_jobs : int | None
        Blocks run in parallel (joblib semantics; ``1``: serially in this process).
    block_kwargs : callable | None
        ``block_kwargs(block) -> dict``: keyword arguments of one block only, made in this
        process (e.g. the block's rows of a permutation plan, so that a worker receives its
        own rows and not the whole plan).
    as_completed : bool
        Return an iterator of ``(block_index, result)`` pairs in the order the blocks finish
        instead of the list of results.
    **kwargs
        Passed to every call of ``func``.

    Returns
    -------
    results : list | iterator
        One result per block, in block order; or ``(block_index, result)`` pairs
        (``as_completed``).

    See Also
    --------
    spawn_seeds, block_slices
    """
    blocks = block_slices(n_items, block_size)
    seeds = spawn_seeds(random_state, len(blocks))

    def kw(b: slice) -> dict:
        return {**kwargs, **block_kwargs(b)} if block_kwargs is not None else kwargs

    if len(blocks) > 1 and (n_jobs not in (None, 1) or _cluster_backend_active()):
        from joblib import Parallel, delayed

        if n_jobs in (None, 1):
            n_jobs = -1  # a cluster backend: as many blocks at once as it has workers
        calls = (
            delayed(_run_indexed)(i, func, b, s, kw(b))
            for i, (b, s) in enumerate(zip(blocks, seeds))
        )
        if as_completed:
            return Parallel(n_jobs=n_jobs, return_as="generator_unordered")(calls)
        return [r for _, r in Parallel(n_jobs=n_jobs)(calls)]
    serial = (_run_indexed(i, func, b, s, kw(b)) for i, (b, s) in enumerate(zip(blocks, seeds)))
    return serial if as_completed else [r for _, r in serial]


def _run_indexed(i: int, func, block: slice, seed, kwargs) -> tuple:
    return i, _run_block(func, block, seed, kwargs)


def _seeds_block(block, rng, *, call, seeds, kwargs) -> list:
    return [call(seed, **kwargs) for seed in seeds]


def map_seeds(
    func,
    seeds,
    *,
    block_size: int = 1,
    n_jobs: int | None = 1,
    as_completed: bool = False,
    **kwargs,
):
    """Run ``func(seed, **kwargs)`` for every seed (e.g. one simulated study each), in blocks.

    Each call's randomness comes from its own seed, so the results equal a serial run's
    whatever ``block_size``, ``n_jobs`` and the workers (a Dask cluster inside
    :func:`hyperalign.pipeline.dask.dask_session`).

    Parameters
    ----------
    func : callable
        ``func(seed, **kwargs)``; picklable for process and cluster workers.
    seeds : sequence of int
        One per call.
    block_size : int
        Calls per block (the unit of work sent to a worker).
    n_jobs : int | None
        Blocks run in parallel (joblib semantics).
    as_completed : bool
        Return an iterator of ``(index, result)`` pairs in the order the blocks finish (to
        save results as they come) instead of the list of results in seed order.
    **kwargs
        Passed to every call of ``func``.

    Returns
    -------
    results : list | iterator
        One result per seed, in order; or ``(index, result)`` pairs (``as_completed``).

    See Also
    --------
    map_blocks
    """
    seeds = list(seeds)
    out = map_blocks(
        _seeds_block, len(seeds), block_size=block_size, random_state=0, n_jobs=n_jobs,
        as_completed=as_completed, block_kwargs=lambda b: {"seeds": seeds[b]}, call=func,
        kwargs=kwargs,
    )  # fmt: skip
    if not as_completed:
        return [r for blk in out for r in blk]
    slices = block_slices(len(seeds), block_size) if seeds else []
    return ((slices[i].start + j, r) for i, blk in out for j, r in enumerate(blk))


def _cluster_backend_active() -> bool:
    """Whether a joblib backend other than the local ones (e.g. ``'dask'``) is active."""
    try:
        from joblib.parallel import get_active_backend
    except ImportError:  # pragma: no cover - joblib ships with scikit-learn
        return False
    backend, _ = get_active_backend()
    return type(backend).__name__ not in (
        "LokyBackend",
        "MultiprocessingBackend",
        "ThreadingBackend",
        "SequentialBackend",
    )
