"""Fan out over dyads: joblib locally or a Dask cluster."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ..utils import logger, progress


def map_items(
    func: Callable[[Any], Any],
    items: Sequence[Any],
    *,
    n_jobs: int = 1,
    executor: str = "joblib",
    desc: str = "",
    client=None,
) -> list[Any]:
    """Apply ``func`` to every item, in order, serially or in parallel.

    Parameters
    ----------
    executor : ``'joblib'`` | ``'dask'``
        ``'dask'`` uses ``client`` (a ``distributed.Client``) or starts a ``LocalCluster``
        on 127.0.0.1 with ``n_jobs`` workers for this call.
    """
    items = list(items)
    if executor == "dask":
        from dask.distributed import Client, LocalCluster

        own = client is None
        if own:
            cluster = LocalCluster(
                n_workers=max(1, n_jobs if n_jobs > 0 else 2),
                threads_per_worker=1,
                host="127.0.0.1",
                dashboard_address=None,
                processes=True,
            )
            client = Client(cluster)
        try:
            futures = client.map(func, items, pure=False)
            return client.gather(futures)
        finally:
            if own:
                client.close()
                cluster.close()
    if executor != "joblib":
        raise ValueError(f"executor must be 'joblib' or 'dask'; got {executor!r}")
    if n_jobs == 1 or len(items) <= 1:
        return [func(it) for it in progress(items, desc=desc)]
    from joblib import Parallel, delayed

    logger.info("%s: %d items on %d joblib workers", desc, len(items), n_jobs)
    return Parallel(n_jobs=n_jobs)(delayed(func)(it) for it in items)
