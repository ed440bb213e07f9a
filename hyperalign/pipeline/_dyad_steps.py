"""The per-dyad steps of the semantic-vs-acoustic pipeline: predictors and synchrony.

Each step runs one function per dyad (:func:`_features_one`, :func:`_coupling_one`), cached
on the content of its inputs (:func:`step_keys`), serially, on joblib workers or on a Dask
cluster (:func:`_run_step`). :mod:`hyperalign.pipeline.run` orchestrates them.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pandas as pd

from ..utils import check_n_jobs
from .cache import StepCache, StepOutput
from .console import mark, track, unrelay
from .executors import map_items
from .interrupt import checkpoint
from .rois import auto_rois


def speech_alignment(dyad, prev_utterance_id, **kwargs) -> pd.DataFrame:
    """Cosine of Whisper-encoder utterance embeddings with the previous turn (``acsim_speech``).

    The acoustic counterpart of ``sem_align``: the same previous-turn mapping, with speech-model
    embeddings (:func:`hyperalign.features.compute_speech_embeddings`) in place of sentence
    embeddings.
    """
    from ..features import compute_speech_embeddings

    emb = compute_speech_embeddings(dyad, level="utterance", on_empty="nan", **kwargs)
    ids = emb.metadata["utterance_id"].to_numpy()
    x = emb.data.astype(float)
    norm = np.linalg.norm(x, axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        x = x / norm
    pos = {u: i for i, u in enumerate(ids)}
    prev = np.asarray(prev_utterance_id, dtype=float)
    out = np.full(len(prev), np.nan)
    for i, (u, pu) in enumerate(zip(ids, prev)):
        if np.isfinite(pu) and int(pu) in pos:
            out[i] = float(x[pos[u]] @ x[pos[int(pu)]])
    return pd.DataFrame({"utterance_id": ids, "acsim_speech": out})


def _features_one(args, n_threads: int | None = None) -> StepOutput:
    """Predictors of one dyad (cached); ``n_threads``: torch threads (``None``: torch's)."""
    dyad, cfg, cache_root, enabled, key = args
    from ..backend import torch_threads
    from ..features import compute_predictors

    f = cfg["features"]
    cache = StepCache(cache_root, enabled)
    layers = f.get("layers") or {}

    def compute():
        kw = {}
        if layers.get("model"):
            kw = dict(
                layers="all",
                layer_model=layers["model"],
                context_words=layers.get("context_words", 32),
                layer_kws={"stride": layers.get("stride", 16)},
            )
        pred = compute_predictors(
            dyad,
            semantic_model=f["semantic_model"],
            acoustic=f["acoustic"],
            acoustic_kws={"f0_method": f.get("f0_method", "praat")},
            controls=tuple(f.get("controls") or ()),
            cache=Path(cache_root) / "embeddings",
            **kw,
        )
        if f.get("speech_embeddings"):
            sp = speech_alignment(dyad, pred["prev_utterance_id"].to_numpy())
            pred = pred.merge(sp, on="utterance_id", how="left", validate="one_to_one")
        if "provenance" in pred.columns:
            pred["provenance"] = pred["provenance"].astype(str)
        return pred

    with torch_threads(n_threads):
        out = cache.run("features", dyad.dyad_id, key, compute, exclusions=dyad.exclusions)
    checkpoint(f"features:{dyad.dyad_id}")
    return out


def layer_alignment_table(preds: pd.DataFrame, model: str = "language model") -> pd.DataFrame:
    """Layer-wise alignment as a long table: one row per utterance x layer (``sem_align_<L>``)."""
    cols = [
        c
        for c in preds.columns
        if c.startswith("sem_align_")
        and not c.startswith("sem_align_k")
        and c.split("_")[-1] not in ("static", "random", "shuffled")
    ]
    if not cols:
        return pd.DataFrame(columns=["dyad", "utterance_id", "layer", "value", "measure"])
    long = preds.melt(
        id_vars=["dyad", "utterance_id"], value_vars=cols, var_name="layer", value_name="value"
    )
    long["layer_name"] = long["layer"].str.replace("sem_align_", "", regex=False)
    long["layer"] = long["layer_name"].str.extract(r"(\d+)$")[0].astype(float)
    long["model"] = str(model)
    long["measure"] = "semantic alignment (cosine, previous turn)"
    return long.dropna(subset=["layer"])


def _coupling_one(args, n_threads: int = 1) -> StepOutput:
    """Synchrony of one dyad (cached); ``n_threads`` threads share its windows."""
    dyad, cfg, cache_root, enabled, key = args
    from ..coupling import compute_dyad_sync, summarize_utterances

    c = cfg["coupling"]
    cache = StepCache(cache_root, enabled)
    rois = c.get("rois")
    if rois == "auto":
        rois = auto_rois(dyad.participants[0].raw.ch_names)

    def compute():
        bands = {k: tuple(v) for k, v in c["bands"].items()}
        kw = dict(
            metrics=tuple(c["metrics"]),
            bands=bands,
            epochs=c["epochs"],
            lags=tuple(c["lags"]),
            min_duration=c["min_duration"],
            filter_method=c.get("filter", "hypyp"),
            filter_kwargs=c.get("filter_kwargs") or None,
        )
        if c["epochs"] == "fixed" and c.get("window") is not None:
            kw["window"] = c["window"]
        kw["n_jobs"] = n_threads  # the same numbers for any number of threads
        s = c.get("surrogates")
        if not s:
            return summarize_utterances(compute_dyad_sync(dyad, **kw), rois=rois)
        from ..coupling.surrogates import compute_surrogate_sync

        # observed and surrogates from one band-pass of the dyad
        coup, null = compute_surrogate_sync(
            dyad,
            method=s["method"],
            n_surrogates=s["n"],
            random_state=0,
            return_observed=True,
            **kw,
        )
        return summarize_utterances(coup, rois=rois, surrogate=null)

    out = cache.run("sync", dyad.dyad_id, key, compute, exclusions=dyad.exclusions)
    checkpoint(f"sync:{dyad.dyad_id}")
    return out


def step_keys(cfg: dict, hashes) -> dict[str, str]:
    """Cache keys of one dyad's steps: its input digests, the step's config section and
    hyperalign's version (an upstream change changes every key that reads it)."""
    from .. import __version__
    from .hashing import hash_json

    return {
        "features": hash_json("features", __version__, cfg["features"],
                              hashes.for_step("features"))[:32],
        "sync": hash_json("sync", __version__, cfg["coupling"], hashes.for_step("sync"))[:32],
    }  # fmt: skip


def _run_step(step, func, dyads, keys, cfg, cache_root, n_jobs, executor, data_root=None):
    enabled = cfg["execution"]["cache"]
    items = [(dy, cfg, cache_root, enabled, keys[dy.dyad_id][step]) for dy in dyads]
    desc = {"features": "features", "sync": "synchrony"}[step]
    mark(desc, len(items))  # progress display (pipeline.console); no-op in library calls
    if executor != "joblib" or n_jobs <= 1:
        return _map(step, func, items, cfg, n_jobs, executor, desc, data_root)
    if step == "sync":
        # synchrony: one dyad after another, each on n_jobs threads (the same numbers for any
        # number of threads; no worker start-up, no copy of the recordings)
        return _map(step, functools.partial(func, n_threads=n_jobs), items, cfg, 1, executor,
                    desc)  # fmt: skip
    # features: cached dyads are read here; the others go to worker processes (no worker is
    # started for a cached rerun), the cores shared out between the workers' torch threads
    cache = StepCache(cache_root, enabled)
    todo = [i for i, it in enumerate(items) if not (enabled and cache.has(step, it[0].dyad_id,
                                                                          it[4]))]  # fmt: skip
    n_workers = min(n_jobs, len(todo))
    outs: list = [None] * len(items)
    done = [i for i in range(len(items)) if i not in set(todo)]
    for i, o in zip(done, _map(step, func, [items[i] for i in done], cfg, 1, executor, desc)):
        outs[i] = o
    if n_workers > 1:
        func = functools.partial(func, n_threads=max(1, check_n_jobs(-1) // n_workers))
    got = _map(step, func, [items[i] for i in todo], cfg, n_workers, executor, desc)
    for i, o in zip(todo, got):
        outs[i] = o
    return outs


def _map(step, func, items, cfg, n_jobs, executor, desc, data_root=None) -> list[StepOutput]:
    if executor != "dask":  # dask workers load their own dyads: no dyad object to name
        func = track(func, lambda it: it[0].dyad_id)
    outs = map_items(
        func, items, n_jobs=n_jobs, executor=executor, desc=desc, data_root=data_root,
        task=cfg["data"].get("task"), step=step, key_func=step_keys,
    )  # fmt: skip
    # joblib workers hand back their warnings: logged here, so the console counts them once
    return unrelay(outs, [it[0].dyad_id for it in items] if executor != "dask" else None)


def data_root(cfg: dict, staging: Path) -> Path | None:
    """The folder the run's dyads are read from (Dask workers read their own dyad there)."""
    d = cfg["data"]
    if d["source"] == "demo":
        return staging / "bids" if d.get("bids_roundtrip", True) else None
    return Path(d["root"]) if d.get("root") else None


def step_features(dyads, cfg, cache_root, keys, n_jobs=1, executor="joblib", data_root=None):
    """Predictors of every dyad (cached per dyad): a list of :class:`StepOutput`."""
    return _run_step("features", _features_one, dyads, keys, cfg, cache_root, n_jobs, executor,
                     data_root)  # fmt: skip


def step_coupling(dyads, cfg, cache_root, keys, n_jobs=1, executor="joblib", data_root=None):
    """Synchrony of every dyad (cached per dyad): a list of :class:`StepOutput`."""
    return _run_step("sync", _coupling_one, dyads, keys, cfg, cache_root, n_jobs, executor,
                     data_root)  # fmt: skip


# ---------------------------------------------------------------------------- driver
