"""Fan out over dyads: joblib locally or a Dask cluster (see :mod:`hyperalign.pipeline.dask`)."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..utils import logger, progress


def _as_refs(items: list, data_root, task, step: str, func, key_func):
    """Replace the dyad of each item by a :class:`~.dask.DyadRef` the worker resolves."""
    from .dask import DyadRef, resolve_item

    if data_root is None:
        logger.warning(
            "dask: the dyads have no dataset folder on disk (demo without bids_roundtrip), so "
            "each whole recording is sent from this process to the workers; set "
            "data.bids_roundtrip: true (or read a BIDS dataset) to let workers read their own"
        )
        return items, func
    root = str(Path(data_root).resolve())
    refs = [(DyadRef(root, str(it[0].dyad_id), task), *it[1:]) for it in items]
    return refs, resolve_item(func, step, key_func)


def _dask_map(func, items, client, n_jobs, desc):
    own = client is None
    if own:
        from .dask import _local_cluster

        logger.info("dask: no run session; starting a LocalCluster for %s", desc or "this call")
        cluster = _local_cluster(max(1, n_jobs if n_jobs > 0 else 2), True)
        from distributed import Client

        client = Client(cluster)
    try:
        # pure=False: a dyad resubmitted after a lost worker is one task, never two results
        futures = client.map(func, items, pure=False)
        return client.gather(futures)
    finally:
        if own:
            client.close()
            cluster.close()


def map_items(
    func: Callable[[Any], Any],
    items: Sequence[Any],
    *,
    n_jobs: int = 1,
    executor: str = "joblib",
    desc: str = "",
    client=None,
    data_root=None,
    task: str | None = None,
    step: str = "",
    key_func: Callable | None = None,
) -> list[Any]:
    """Apply ``func`` to every item, in order, serially or in parallel.

    Parameters
    ----------
    func : callable
        Takes one item.
    items : sequence
        With ``data_root``, each item is a tuple ``(dyad, cfg, cache_root, enabled, key)``.
    n_jobs : int
        Number of joblib workers (``executor='joblib'``; ``1`` runs serially, ``-1`` uses every
        core) or of LocalCluster workers when no client is set.
    executor : ``'joblib'`` | ``'dask'``
        ``'dask'`` uses ``client``, else the run's client (:func:`~.dask.use_client`), else a
        ``LocalCluster`` started for this call.
    desc : str
        Progress label.
    client : distributed.Client | None
        Dask client to submit to (``executor='dask'``); ``None`` uses the run's client.
    data_root : path-like | None
        Dask only: the dataset folder the dyads were read from; each worker then reads its own
        dyad from it (:class:`~.dask.DyadRef`) instead of receiving the recording.
    task : str | None
        ``data.task`` the dyads were read with.
    step : str
        Step name of the items' cache keys (``'features'``, ``'sync'``).
    key_func : callable | None
        ``key_func(cfg, hash_dyad(dyad))[step]`` is the item's cache key: the worker checks
        that the dyad it read is the one the client hashed.

    Returns
    -------
    results : list
        One per item, in order.

    See Also
    --------
    hyperalign.pipeline.dask.use_client
    """
    items = list(items)
    if executor == "dask":
        from .dask import active_client

        if step:
            items, func = _as_refs(items, data_root, task, step, func, key_func)
        return _dask_map(func, items, client or active_client(), n_jobs, desc)
    if executor != "joblib":
        raise ValueError(f"executor must be 'joblib' or 'dask'; got {executor!r}")
    if n_jobs == 1 or len(items) <= 1:
        return [func(it) for it in progress(items, desc=desc)]
    from joblib import Parallel, delayed

    logger.info("%s: %d items on %d joblib workers", desc, len(items), n_jobs)
    with warnings.catch_warnings():
        # loky restarts a worker whose memory grew by more than 300 MB, taking it for a leak (or
        # one idle past its timeout); a worker that loaded a language model (kept for its next
        # dyads) grows that much by design. No result is lost: the pipeline's tables equal a
        # serial run's (tests/pipeline), so the warning says nothing a user can act on.
        warnings.filterwarnings(
            "ignore", message="A worker stopped while some jobs were given to the executor"
        )
        return Parallel(n_jobs=n_jobs)(delayed(func)(it) for it in items)
