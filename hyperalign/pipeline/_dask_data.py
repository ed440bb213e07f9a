"""Dyads read, hashed and computed on the Dask workers: the client reads no recording.

With ``execution.executor: dask`` and a BIDS study (``data.source: bids``), the client lists
the dyads of ``dyads.tsv`` and sends each worker a :class:`~.dask.DyadRef` and the config; the
worker reads the dyad, hashes it, checks the cache, computes or loads the per-dyad steps,
writes its own cache entries and sends back the tables and the cache keys. The keys are a
serial run's, so a cache written by either kind of run is reused by the other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..utils import logger
from .dask import DyadRef, active_client


@dataclass
class _Raw:
    ch_names: list


@dataclass
class _Participant:
    id: str
    raw: _Raw


@dataclass
class DyadInfo:
    """What the client keeps of a dyad read on a worker: no samples, only what the run's checks,
    summary tables and exclusions need (a stand-in for the :class:`~hyperalign.Dyad`)."""

    dyad_id: str
    sfreq: float
    participants: list
    table: Any = None
    exclusions: Any = None

    def summary(self):
        """The dyad's :meth:`hyperalign.Dyad.summary` table, made on the worker."""
        return self.table


@dataclass
class DyadWork:
    """One dyad done on a worker: read, hashed, checked and (unless a check failed) both
    per-dyad steps computed or loaded from the cache, which the worker writes itself."""

    dyad_id: str
    report: dict | None = None
    info: DyadInfo | None = None
    hashes: Any = None
    keys: dict | None = None
    problems: list = field(default_factory=list)
    features: Any = None
    sync: Any = None


def _read_with_report(ref: DyadRef):
    from .. import io as hio

    root = Path(ref.root)
    if not (root / "dyads.tsv").is_file():
        ref.read()  # the SharedFilesystemError naming this worker
    dyads, report = hio.read_bids_dyads(root, task=ref.task, dyad_ids=[ref.dyad_id])
    if len(dyads) == 1:
        return dyads[0], None
    if len(report) == 1:
        return None, report.iloc[0].to_dict()
    return ref.read(), None  # the error naming the dyad and the worker


def work_dyad(ref: DyadRef, cfg: dict, cache_root, enabled: bool, steps) -> DyadWork:
    """On a worker: read one dyad, hash it, check it, then compute or load its steps.

    The cache keys are those of a serial run (:func:`~.run.step_keys` of
    :func:`~.hashing.hash_dyad`), so a cache written by either is reused by the other. A dyad
    that cannot be read comes back as its read-report row; a dyad that fails a check of the
    study (a band above its Nyquist frequency, ROI channels it lacks) comes back with the
    problems and nothing computed.

    Parameters
    ----------
    ref : DyadRef
        The dyad on the shared filesystem.
    cfg : dict
        The validated pipeline config.
    cache_root : path-like
        The run's cache folder (shared filesystem).
    enabled : bool
        ``execution.cache``.
    steps : tuple
        ``(features_one, coupling_one, step_keys)`` of :mod:`hyperalign.pipeline.run` (given
        by the caller: this module does not import the run module, which imports it).

    Returns
    -------
    work : DyadWork
    """
    import copy

    from .checks import MIN_DYADS, check_study
    from .hashing import hash_dyad

    _features_one, _coupling_one, step_keys = steps

    dyad, report = _read_with_report(ref)
    if dyad is None:
        return DyadWork(ref.dyad_id, report=report)
    hashes = hash_dyad(dyad)
    keys = step_keys(cfg, hashes)
    info = DyadInfo(
        dyad_id=str(dyad.dyad_id),
        sfreq=float(dyad.sfreq),
        participants=[_Participant(p.id, _Raw(list(p.raw.ch_names))) for p in dyad.participants],
        table=dyad.summary(),
        exclusions=copy.deepcopy(dyad.exclusions),  # as read, before the steps add theirs
    )
    # this dyad's own problems (the study-wide count of readable dyads is the client's)
    few = f"1 of 1 listed dyads could be read; the mixed model needs at least {MIN_DYADS}"
    problems = [p for p in check_study(cfg, [dyad], 1) if not p.startswith(few)]
    work = DyadWork(info.dyad_id, info=info, hashes=hashes, keys=keys, problems=problems)
    if problems:
        return work
    work.features = _features_one((dyad, cfg, cache_root, enabled, keys["features"]))
    work.sync = _coupling_one((dyad, cfg, cache_root, enabled, keys["sync"]))
    return work


@dataclass
class WorkersRead:
    """The data step done by the workers (:func:`read_on_workers`)."""

    dyads: list
    n_listed: int
    hashes: dict
    features: list
    sync: list
    problems: list


def read_on_workers(cfg: dict, staging, cache_root, log, steps, client=None) -> WorkersRead:
    """The per-dyad part of a run on the cluster, with no recording read by this process.

    This process lists the dyads of ``data.root/dyads.tsv`` and sends each worker a
    :class:`DyadRef` and the config; the worker reads the dyad, hashes it, checks the cache,
    computes or loads both per-dyad steps, writes its own cache entries and sends back the
    tables, the digests and a :class:`DyadInfo` (:func:`work_dyad`). Each recording is read
    once, by one worker. Unreadable dyads are reported (``bids_read_report.csv``) and excluded
    or raised as in a serial run (``data.on_error``).

    Parameters
    ----------
    cfg : dict
        The validated config (``data.source: bids``).
    staging : path-like
        The run's staging folder (``tables/bids_read_report.csv`` is written there).
    cache_root : path-like
        The run's cache folder.
    log : hyperalign.utils.ExclusionLog
        The run's exclusions (read failures and each dyad's own, in a serial run's order).
    steps : tuple
        ``(features_one, coupling_one, step_keys)``, see :func:`work_dyad`.
    client : distributed.Client | None
        Default: the run's client (:func:`active_client`).

    Returns
    -------
    result : WorkersRead
    """
    import pandas as pd

    from .. import io as hio
    from ..io.bids import _cell, _select_rows
    from .config import ConfigError
    from .console import mark
    from .data import _bids_exclusions, _no_dyads_error, _write_table

    d = cfg["data"]
    client = client or active_client()
    man = hio.read_manifest(d["root"])
    root = str(Path(man.attrs["root"]).resolve())
    ids = [_cell(r, "dyad_id") or f"row{i}" for i, r in _select_rows(man, d.get("task"), None)]
    if not ids:
        raise _no_dyads_error(d["root"], d.get("task"))
    dups = sorted({i for i in ids if ids.count(i) > 1})
    if dups:
        raise ConfigError(
            [f"dyad_id: {dups} appear more than once; give every dyad a unique dyad_id in "
             "dyads.tsv"], what="the data do not fit the pipeline config",
        )  # fmt: skip
    mark("features", len(ids))
    refs = [DyadRef(root, did, d.get("task")) for did in ids]
    enabled = cfg["execution"]["cache"]
    logger.info("dask: %d dyads read, hashed and computed on the workers", len(refs))
    # pure=False: a dyad resubmitted after a lost worker is one task, never two results
    futures = client.map(work_dyad, refs, cfg=cfg, cache_root=cache_root, enabled=enabled,
                         steps=steps, pure=False)  # fmt: skip
    works: list[DyadWork] = client.gather(futures)
    report = pd.DataFrame(
        [w.report for w in works if w.report is not None],
        columns=["dyad_id", "row", "stage", "file", "error"],
    )
    _write_table(report, Path(staging) / "tables" / "bids_read_report.csv")
    _bids_exclusions(report, log, d.get("on_error", "exclude"), d["root"])
    read = [w for w in works if w.info is not None]
    for w in read:
        log.extend(w.info.exclusions)
    return WorkersRead(
        dyads=[w.info for w in read],
        n_listed=len(ids),
        hashes={w.dyad_id: w.hashes for w in read},
        features=[w.features for w in read],
        sync=[w.sync for w in read],
        problems=[p for w in read for p in w.problems],
    )
