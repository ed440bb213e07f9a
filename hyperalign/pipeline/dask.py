"""Run a pipeline on a Dask cluster: a LocalCluster, an existing scheduler or dask-jobqueue.

One cluster per run (:func:`dask_session`), opened before any computation: a scheduler that
cannot be reached, or workers that do not see the run's folders (the shared filesystem), are
errors before the first dyad is read. Per-dyad work is sent as a :class:`DyadRef` (dataset
root and dyad id): the worker reads its own dyad from the shared filesystem, hashes it, checks
the cache, computes, writes the cache entry and sends back a table and the cache keys (a BIDS
study: :mod:`~hyperalign.pipeline._dask_data`; for the demo, whose dyads the client simulated,
the worker checks that it read the dyad the client hashed). Inside the session joblib's Dask
backend is active, so ``n_jobs`` loops (statistics cells, the blocks of permutations of
``test_semantic_beyond_acoustics``, :func:`hyperalign.utils._parallel.map_blocks` and
``map_seeds`` permutation or simulation blocks) run on the cluster too.

``execution.scheduler`` in a pipeline config:

- ``null`` (default): a ``LocalCluster`` on this machine with ``execution.n_jobs`` workers;
- ``"tcp://host:8786"``: an existing scheduler (its workers must see the same files);
- a mapping ``{cluster: slurm, jobs: 4, cores: 8, memory: 32GB, ...}``: a dask-jobqueue
  cluster (``slurm``, ``pbs``, ``sge``, ``lsf``, ``oar``, ``htcondor``, ``moab``) started by
  hyperalign with the other keys as its arguments, scaled to ``jobs`` jobs and closed at the
  end of the run.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import socket
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..utils import _validate_type, logger

#: dask-jobqueue cluster classes by ``execution.scheduler.cluster``.
JOBQUEUE = {
    "slurm": "SLURMCluster",
    "pbs": "PBSCluster",
    "sge": "SGECluster",
    "lsf": "LSFCluster",
    "oar": "OARCluster",
    "htcondor": "HTCondorCluster",
    "moab": "MoabCluster",
}
_SESSION_KEYS = ("cluster", "jobs", "timeout", "wait_workers")
_CLIENT: contextvars.ContextVar = contextvars.ContextVar("hyperalign_dask_client", default=None)


@contextlib.contextmanager
def use_client(client) -> Iterator[Any]:
    """Make ``client`` the Dask client of :func:`~.executors.map_items` inside the block."""
    tok = _CLIENT.set(client)
    try:
        yield client
    finally:
        _CLIENT.reset(tok)


def active_client():
    """The client set by :func:`use_client` (a run's :func:`dask_session`), or None."""
    return _CLIENT.get()


class SchedulerError(ConnectionError):
    """The Dask scheduler of ``execution.scheduler`` cannot be reached or started."""


class SharedFilesystemError(OSError):
    """Some Dask workers do not see the run's folders (no shared filesystem)."""


@dataclass(frozen=True)
class DyadRef:
    """A dyad by reference: what a worker needs to read it itself from the dataset.

    Attributes
    ----------
    root : str
        Dataset root (``dyads.tsv``) on the shared filesystem.
    dyad_id : str
    task : str | None
        ``data.task`` of the run (the row filter of the manifest).
    """

    root: str
    dyad_id: str
    task: str | None = None
    read_kwargs: dict = field(default_factory=dict)

    def read(self):
        """Read the dyad (on the worker); a clear error when it cannot be read."""
        from .. import io as hio

        root = Path(self.root)
        if not (root / "dyads.tsv").is_file():
            raise SharedFilesystemError(
                f"worker {_worker_name()}: the dataset {root}/dyads.tsv is not visible here; the "
                "data must be on a filesystem every worker mounts at the same path"
            )
        dyads, report = hio.read_bids_dyads(
            root, task=self.task, dyad_ids=[self.dyad_id], **self.read_kwargs
        )
        if len(dyads) != 1:
            why = "; ".join(f"{r.stage}: {r.error}" for r in report.itertuples()) or "not listed"
            raise ValueError(
                f"worker {_worker_name()}: dyad {self.dyad_id!r} of {root} could not be read "
                f"({why})"
            )
        return dyads[0]


def _worker_name() -> str:
    try:
        from distributed import get_worker

        return str(get_worker().address)
    except (ImportError, ValueError):
        return f"{socket.gethostname()}:{os.getpid()}"


def resolve_item(func, step: str, key_func=None):
    """Wrap a per-dyad step so that a :class:`DyadRef` in its item is read on the worker.

    The dyad read is hashed again and its cache key compared with the client's: a worker that
    reads another copy of the data (or data changed during the run) is an error, never a wrong
    cache entry.
    """
    return _Resolved(func, step, key_func)


@dataclass(frozen=True)
class _Resolved:
    func: Any
    step: str
    key_func: Any = None

    def __call__(self, item):
        ref = item[0]
        if not isinstance(ref, DyadRef):
            return self.func(item)
        from .hashing import hash_dyad

        dyad = ref.read()
        cfg, key = item[1], item[4]
        got = self.key_func(cfg, hash_dyad(dyad))[self.step] if self.key_func else key
        if got != key:
            raise ValueError(
                f"worker {_worker_name()}: dyad {ref.dyad_id!r} read from {ref.root} differs "
                f"from the one the client read (cache key {got} != {key}); the data changed "
                "during the run or this worker sees another copy. Rerun once the data are "
                "final, with every worker mounting the same dataset."
            )
        return self.func((dyad, *item[1:]))


# --------------------------------------------------------------------------- the cluster
def _check_spec(spec) -> None:
    if spec is None or isinstance(spec, str):
        if isinstance(spec, str) and not spec.strip():
            raise ValueError(
                "execution.scheduler is an empty string; give a scheduler address such as "
                "'tcp://lab-server:8786', a dask-jobqueue mapping, or null for a LocalCluster"
            )
        return
    _validate_type(
        spec,
        dict,
        "execution.scheduler",
        "null (LocalCluster), an address string ('tcp://host:8786') or a dask-jobqueue mapping",
    )
    kind = spec.get("cluster")
    if kind not in JOBQUEUE:
        raise ValueError(
            f"execution.scheduler.cluster must be one of {sorted(JOBQUEUE)}; got {kind!r} "
            "(e.g. {cluster: slurm, jobs: 4, cores: 8, memory: 32GB, walltime: '02:00:00'})"
        )


def _probe(address: str, timeout: float) -> None:
    """Open a TCP connection to the scheduler (fast, clear failure before any Dask call)."""
    from distributed.comm import parse_address, parse_host_port

    try:
        scheme, loc = parse_address(address)
        if scheme in ("tcp", "tls"):
            host, port = parse_host_port(loc, 8786)
    except ValueError as err:
        raise SchedulerError(
            f"execution.scheduler={address!r} is not a Dask address ({err}); give "
            "'tcp://host:port' (the address `dask scheduler` prints)"
        ) from None
    if scheme not in ("tcp", "tls"):
        return  # inproc:// and others: leave it to distributed
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except OSError as err:
        raise SchedulerError(
            f"execution.scheduler: cannot reach the Dask scheduler at {address} within "
            f"{timeout:g} s ({type(err).__name__}: {err}). Start it (`dask scheduler` on that "
            "machine, then `dask worker "
            f"{address}` on each worker machine), check the host, port and firewall, or set "
            "execution.scheduler: null to run on a LocalCluster on this machine. Nothing was "
            "computed."
        ) from None


def jobqueue_script(spec: dict) -> str:
    """The batch script a dask-jobqueue ``execution.scheduler`` mapping would submit (dry run).

    Parameters
    ----------
    spec : dict
        ``execution.scheduler`` (``{cluster: slurm, cores: 8, memory: 32GB, ...}``).

    Returns
    -------
    script : str
        The job script (``#SBATCH`` / ``#PBS`` lines and the worker command); nothing is
        submitted.
    """
    _check_spec(spec)
    _validate_type(spec, dict, "spec", "a dask-jobqueue mapping ({cluster: slurm, ...})")
    cluster = _jobqueue_cluster(spec)
    try:
        return cluster.job_script()
    finally:
        cluster.close()


def _jobqueue_cluster(spec: dict):
    try:
        import dask_jobqueue
    except ImportError:
        raise SchedulerError(
            f"execution.scheduler asks for a {spec['cluster']} cluster, which needs "
            "dask-jobqueue: pip install dask-jobqueue"
        ) from None
    cls = getattr(dask_jobqueue, JOBQUEUE[spec["cluster"]])
    kwargs = {k: v for k, v in spec.items() if k not in _SESSION_KEYS}
    try:
        cluster = cls(**kwargs)
    except Exception as err:
        raise SchedulerError(
            f"execution.scheduler: could not start the {spec['cluster']} cluster with "
            f"{kwargs} ({type(err).__name__}: {err}); fix the arguments (see the dask-jobqueue "
            f"documentation of {JOBQUEUE[spec['cluster']]})"
        ) from err
    return cluster


def _start_jobqueue(spec: dict):
    cluster = _jobqueue_cluster(spec)
    cluster.scale(jobs=int(spec.get("jobs", 1)))
    logger.info("dask: %s started, %s job(s) requested", type(cluster).__name__, spec.get("jobs"))
    return cluster


def _local_cluster(n_workers: int, processes: bool):
    from distributed import LocalCluster

    return LocalCluster(
        n_workers=n_workers,
        threads_per_worker=1,
        processes=processes,
        host="127.0.0.1",
        protocol="tcp",
        dashboard_address=None,
        # no dashboard, and the scheduler's HTTP routes on a free local port: the default 8787
        # may be taken (another cluster), which warns and leaks a socket (ResourceWarning)
        scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"},
    )


def _file_digest(path: str) -> str | None:
    import hashlib

    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None


def _see_token(paths: list[str], token: str, files: dict | None = None) -> dict:
    """On a worker: which of ``paths`` hold the client's token (the same folder, writable) and
    which of ``files`` have the client's content (read only)."""
    out = {}
    for p in paths:
        f = Path(p) / ".hyperalign-fs-check"
        try:
            ok = f.read_text() == token and os.access(p, os.W_OK)
        except OSError:
            ok = False
        out[p] = ok
    for f, digest in (files or {}).items():
        out[f] = _file_digest(f) == digest
    return out


def check_shared_filesystem(client, paths, *, read_files=()) -> None:
    """Every worker must see ``paths`` (the same folders, writable) or a clear error is raised.

    The client writes a random token in each folder and each worker reads it back; files of
    ``read_files`` (a dataset's ``dyads.tsv``, which may be read-only) are compared by SHA-256.

    Parameters
    ----------
    client : distributed.Client
    paths : list of path-like
        Folders the workers write (cache, staging).
    read_files : list of path-like
        Files the workers only read.

    Raises
    ------
    SharedFilesystemError
        Naming each worker and the folders or files it does not see.
    """
    paths = [str(Path(p).resolve()) for p in paths]
    files = {str(Path(f).resolve()): _file_digest(str(Path(f).resolve())) for f in read_files}
    token = uuid.uuid4().hex
    for p in paths:
        Path(p).mkdir(parents=True, exist_ok=True)
        (Path(p) / ".hyperalign-fs-check").write_text(token)
    try:
        seen = client.run(_see_token, paths, token, files)
    finally:
        for p in paths:
            (Path(p) / ".hyperalign-fs-check").unlink(missing_ok=True)
    bad = {w: [p for p, ok in s.items() if not ok] for w, s in seen.items()}
    bad = {w: ps for w, ps in bad.items() if ps}
    if bad:
        lines = [f"{w}: {ps}" for w, ps in sorted(bad.items())]
        raise SharedFilesystemError(
            f"{len(bad)} of {len(seen)} Dask worker(s) do not see the run's folders (a shared "
            "filesystem mounted at the same path on every worker is required):\n  - "
            + "\n  - ".join(lines)
            + "\nmount the output folder (and the dataset) on every worker at the same path, "
            "or give an output folder on a shared filesystem (out=...)"
        )


def _wait_for_workers(client, n: int, timeout: float) -> None:
    if n <= 0:
        return
    try:
        client.wait_for_workers(n, timeout=timeout)
    except TimeoutError:
        raise SchedulerError(
            f"execution.scheduler: the Dask scheduler has {len(client.nthreads())} worker(s) "
            f"after {timeout:g} s (waiting for {n}); start workers (`dask worker <address>`) "
            "or check the batch queue (squeue / qstat)"
        ) from None


@contextlib.contextmanager
def dask_session(
    scheduler=None,
    *,
    n_workers: int = 2,
    paths=(),
    read_files=(),
    timeout: float = 10.0,
    processes: bool = True,
) -> Iterator[Any]:
    """Open the run's Dask client once: connect, check the workers' filesystem, set joblib.

    Parameters
    ----------
    scheduler : None | str | dict
        ``execution.scheduler`` (see the module docstring).
    n_workers : int
        Workers of the LocalCluster (``scheduler=None``).
    paths : list of path-like
        Folders every worker must see and write (:func:`check_shared_filesystem`).
    read_files : list of path-like
        Files every worker must read with the client's content (the dataset's ``dyads.tsv``).
    timeout : float
        Seconds to reach the scheduler (and, with dask-jobqueue, for the first worker).
    processes : bool
        LocalCluster workers as processes (``False``: threads of this process).

    Yields
    ------
    client : distributed.Client
        Also the active client of :func:`hyperalign.pipeline.executors.map_items` and the
        joblib backend inside the block.
    """
    _check_spec(scheduler)
    from distributed import Client

    cluster = client = None
    try:
        if isinstance(scheduler, dict):
            timeout = float(scheduler.get("timeout", max(timeout, 600.0)))
            cluster = _start_jobqueue(scheduler)  # cancelled below if anything fails
            client = Client(cluster, timeout=timeout)
            _wait_for_workers(client, int(scheduler.get("wait_workers", 1)), timeout)
        elif isinstance(scheduler, str):
            _probe(scheduler, timeout)
            try:
                client = Client(scheduler, timeout=timeout)
            except OSError as err:
                raise SchedulerError(
                    f"execution.scheduler: connected to {scheduler} but the Dask handshake "
                    f"failed ({err}); is it a Dask scheduler of a compatible version?"
                ) from None
            _wait_for_workers(client, 1, timeout)
        else:
            cluster = _local_cluster(max(1, int(n_workers)), processes)
            client = Client(cluster)
        t0 = time.perf_counter()
        check_shared_filesystem(client, paths, read_files=read_files)
        logger.info(
            "dask: %d worker(s) at %s (checked in %.1f s)",
            len(client.nthreads()),
            client.scheduler.address,
            time.perf_counter() - t0,
        )
        from joblib import parallel_config

        with use_client(client), parallel_config(backend="dask"):
            yield client
    finally:
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()
