"""The layer-wise encoding pipeline: layer sweeps of a text and a speech model, the model-brain
hierarchy, and model-based brain-to-brain coupling, from a YAML file to a report.

Stages (``pipelines/layerwise_encoding.yaml``):

1. **data** - simulate the demo study with a planted layer hierarchy and a planted
   model-based coupling (or read a BIDS study);
2. **layers** - every dyad's layer embeddings: the text model's selected hidden states, every
   encoder layer of the speech model, and the controls (static, random and shuffled vectors,
   acoustic word features); cached by :mod:`hyperalign.features` on the words and audio;
3. **sweep** - the word-level lagged encoding score of every layer, ROI, lag, role and
   participant on one set of folds per dyad (:func:`~hyperalign.encoding.sweep_layers`),
   with the self-predictability baseline; cached per dyad;
4. **coupling** - the speaker's production model against the listener's held-out activity,
   lag by lag (raw, residual after acoustics, direct; :func:`~hyperalign.encoding.
   fit_b2b_coupling`) with circular-shift nulls; cached per dyad;
5. **stats** - best layer per ROI and role with bootstrap CIs over dyads, the hierarchy test,
   depth vs peak lag, text vs speech vs controls, group coupling maps (sign-flip over dyads)
   and the transfer latency; recovery of the planted truth when simulated;
6. **report** - tables, figures and a self-contained HTML page.

Outputs are staged and committed with a manifest like the semantic pipeline's
(:class:`~hyperalign.pipeline.outputs.RunFolder`); Ctrl-C stops with ``RunInterrupted`` and a
rerun resumes from the cache.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..utils import ExclusionLog, atomic_write, fill_doc, logger, verbose
from .cache import StepCache, count_cached
from .config import config_hash
from .console import mark, track
from .interrupt import RunInterrupted, checkpoint, handle_signals
from .layerwise_config import is_layerwise_config, load_layerwise_config

__all__ = ["LayerwiseResult", "run_layerwise_pipeline", "is_layerwise_config",
           "load_layerwise_config", "layerwise_summary"]  # fmt: skip

STEPS = ("sweep", "b2b")


@dataclass
class LayerwiseResult:
    """What a layer-wise pipeline run produced.

    Parameters
    ----------
    out, config, tables, figures, report, timings, stats, recovery, exclusions : object
        See Attributes.
    n_dyads_listed, n_dyads_analysed, summary, cache, manifest, rois, methods : object
        See Attributes.

    Attributes
    ----------
    out : pathlib.Path
        The output folder.
    config : dict
        The validated configuration.
    tables : dict of str to pandas.DataFrame
        Every table written to ``tables/`` (``sweep_scores``, ``best_layer``,
        ``hierarchy_test``, ``model_comparison``, ``coupling_group``, ``transfer_latency``,
        ``recovery``, ...).
    figures : dict of str to pathlib.Path
        The figures (PNG).
    report : pathlib.Path | None
        The HTML report.
    timings : dict
        Wall seconds per stage.
    stats : dict
        The in-memory statistics (group coupling datasets, latencies, the hierarchy test).
    recovery : LayerwiseRecovery | None
        Found vs planted (simulated data only).
    cache : pandas.DataFrame | None
        One row per dyad and cached step: ``step, dyad, status``.
    manifest : dict | None
        The manifest written last.
    exclusions : pandas.DataFrame | None
        Every excluded item (``stage, kind, item, reason, n``).
    n_dyads_listed, n_dyads_analysed : int
        Dyads listed in the study and dyads analysed.
    summary : dict
        The contents of ``summary.json``.
    rois : dict | None
        The ROIs (name -> channels).
    methods : str
        The generated methods paragraph.
    """

    out: Path
    config: dict
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    figures: dict[str, Path] = field(default_factory=dict)
    report: Path | None = None
    timings: dict[str, float] = field(default_factory=dict)
    stats: Any = None
    recovery: Any = None
    exclusions: pd.DataFrame | None = None
    n_dyads_listed: int = 0
    n_dyads_analysed: int = 0
    summary: dict = field(default_factory=dict)
    cache: pd.DataFrame | None = None
    manifest: dict | None = None
    rois: dict | None = None
    methods: str = ""


def _results_hash(cfg: dict) -> str:
    return config_hash({k: v for k, v in cfg.items() if k not in ("out", "execution")})


def _keys(cfg: dict, hashes) -> dict[str, str]:
    """Cache keys of one dyad's steps (inputs, config sections, version)."""
    from .. import __version__
    from .hashing import hash_json

    inputs = {**hashes.for_step("features"), **hashes.for_step("sync")}
    sim = cfg.get("simulation") if cfg["data"]["source"] == "demo" else None
    feat = {k: v for k, v in cfg["features"].items() if k != "embedding_cache"}
    common = (__version__, inputs, feat, sim, cfg["encoding"]["rois"], cfg["encoding"]["cv"])
    return {
        "sweep": hash_json("lw-sweep", *common, cfg["encoding"])[:32],
        # "/2": the maps table names its map column map_type (was kind), so no entry of the
        # earlier layout is served
        "b2b": hash_json("lw-b2b/2", *common, cfg["coupling"])[:32],
    }


def _emb_cache(cfg: dict, folder) -> Path | None:
    if not cfg["execution"]["cache"]:
        return None
    given = cfg["features"].get("embedding_cache")
    return Path(given) if given else folder.cache / "embeddings"


class _DyadJob:
    """One dyad's cached steps (features computed only when a step misses); picklable, so
    that dyads can run in worker processes (``execution.n_jobs``)."""

    def __init__(self, cfg, cache_root, keys, rois, truth, emb_cache):
        self.cfg, self.cache_root, self.keys, self.rois = cfg, cache_root, keys, rois
        self.truth, self.emb_cache = truth, emb_cache

    def _truth(self, dyad):
        if self.truth is None:
            return None
        try:
            return self.truth[str(dyad.dyad_id)]
        except KeyError:
            return None

    def __call__(self, dyad):
        from ._layerwise_steps import b2b_table, dyad_features, sweep_table

        cfg = self.cfg
        did = str(dyad.dyad_id)
        keys = self.keys[did]
        cache = StepCache(self.cache_root, cfg["execution"]["cache"])
        feats: dict = {}
        timings: dict[str, float] = {}
        tm = cfg["features"]["text_model"]["name"]
        text = "simulated" if tm == "simulated" else str(tm)

        def features():
            if not feats:
                t0 = time.perf_counter()
                feats.update(dyad_features(dyad, cfg, self.emb_cache, self._truth(dyad)))
                timings["layers"] = time.perf_counter() - t0
            return feats

        def log_rows(log, rows):
            for r in rows:
                log.add(r.get("stage", "sweep"), r.get("kind", "word"), r.get("item", ""),
                        r.get("reason", ""), int(r.get("n", 1)))  # fmt: skip

        out = {}
        log = ExclusionLog()

        def sweep():
            df, excl, _ = sweep_table(dyad, features(), cfg, self.rois)
            log_rows(log, excl)
            return df

        t0 = time.perf_counter()
        out["sweep"] = cache.run("lw_sweep", did, keys["sweep"], sweep, exclusions=log)
        timings["sweep"] = time.perf_counter() - t0 - timings.get("layers", 0.0)
        checkpoint(f"lw_sweep:{did}")
        if cfg["coupling"]["enabled"]:
            log2 = ExclusionLog()

            def b2b():
                df, excl = b2b_table(dyad, features(), cfg, self.rois, text)
                log_rows(log2, excl)
                return df

            t0 = time.perf_counter()
            out["b2b"] = cache.run("lw_b2b", did, keys["b2b"], b2b, exclusions=log2)
            timings["coupling"] = time.perf_counter() - t0
            checkpoint(f"lw_b2b:{did}")
        return out, timings


def _per_dyad(dyads, cfg, folder, keys, rois, truth, emb_cache, res, log):
    """Run every dyad's steps (one progress stage) and collect tables and cache events."""
    from ..utils import check_n_jobs

    mark("layers+fit", len(dyads))
    job = _DyadJob(cfg, folder.cache, keys, rois, truth, emb_cache)
    n_jobs = min(check_n_jobs(cfg["execution"]["n_jobs"]), len(dyads))
    cache = StepCache(folder.cache, cfg["execution"]["cache"])
    if cfg["execution"]["cache"] and all(
        cache.has(f"lw_{step}", did, k) for did, ks in keys.items() for step, k in ks.items()
    ):
        n_jobs = 1  # everything cached: starting workers would cost more than reading
    if n_jobs > 1:  # dyads in worker processes, each with one BLAS thread
        from joblib import Parallel, delayed

        outs = Parallel(n_jobs=n_jobs)(delayed(_one_thread)(job, dy) for dy in dyads)
        relog = track(_relog, lambda it: it[0])  # the workers' warnings, to the console
        for dy, (_, records) in zip(dyads, outs):
            relog((str(dy.dyad_id), records))
        results = [r for r, _ in outs]
    else:
        run = track(job, lambda dy: dy.dyad_id)
        results = [run(dy) for dy in dyads]
    sweeps, maps, events = [], [], []
    for dy, (outs, timings) in zip(dyads, results):
        for step, o in outs.items():
            events.append({"step": step, "dyad": str(dy.dyad_id), "status": o.status})
            log.rows.extend(dict(r) for r in o.exclusions)
            (sweeps if step == "sweep" else maps).append(o.value.assign(dyad=str(dy.dyad_id)))
        for k, v in timings.items():
            res.timings[k] = res.timings.get(k, 0.0) + v
    res.cache = pd.DataFrame(events, columns=["step", "dyad", "status"])
    scores = pd.concat(sweeps, ignore_index=True)
    b2b = pd.concat(maps, ignore_index=True) if maps else None
    return scores, b2b


def _one_thread(job, dyad):
    """Run ``job(dyad)`` in a worker with one BLAS thread and one torch thread; its log
    records (warnings and above) are returned for the parent to log, not printed here."""
    import logging

    import torch

    from ..utils import blas_limits

    records: list = []

    class _Keep(logging.Handler):
        def emit(self, record):
            records.append((record.levelno, record.getMessage()))

    torch.set_num_threads(1)
    lim = blas_limits(1)
    handlers, logger.handlers = logger.handlers, [_Keep(logging.WARNING)]
    try:
        return job(dyad), records
    finally:
        logger.handlers = handlers
        if lim is not None:
            lim.restore_original_limits()


def _relog(item) -> None:
    for level, msg in item[1]:
        logger.log(level, "%s", msg)


def _run(cfg: dict, folder, state: dict) -> LayerwiseResult:
    from .. import __version__
    from ._layerwise_stats import coupling_stats, layer_stats
    from ._layerwise_steps import layerwise_data, resolve_rois
    from .hashing import hash_dyad, hash_json

    st = folder.staging
    res = LayerwiseResult(out=folder.out, config=cfg)
    log = ExclusionLog()
    emb_cache = _emb_cache(cfg, folder)
    t0 = time.perf_counter()
    mark("data")
    dyads, truth, n_listed = layerwise_data(cfg, st, log, emb_cache)
    if not dyads:
        raise ValueError("data: no dyad could be read; see tables/exclusions.csv")
    res.n_dyads_listed, state["n_total"] = n_listed, len(dyads)
    res.timings["data"] = time.perf_counter() - t0
    hashes = {str(dy.dyad_id): hash_dyad(dy) for dy in dyads}
    keys = {did: _keys(cfg, h) for did, h in hashes.items()}
    if not cfg["coupling"]["enabled"]:
        keys = {did: {"sweep": k["sweep"]} for did, k in keys.items()}
    state["keys"] = keys
    run_key = hash_json(_results_hash(cfg), __version__, n_listed, log.rows,
                        [h.all() for h in hashes.values()])  # fmt: skip
    folder.check_inputs(run_key)
    checkpoint("data")
    res.rois = rois = resolve_rois(cfg, dyads[0].participants[0].raw.ch_names)
    res.tables["participants"] = pd.concat([dy.summary() for dy in dyads], ignore_index=True)
    if truth is not None:
        res.tables["planted_effects"] = truth.effects
    scores, b2b = _per_dyad(dyads, cfg, folder, keys, rois, truth, emb_cache, res, log)
    res.tables["sweep_scores"] = scores
    res.n_dyads_analysed = scores["dyad"].nunique()
    t = time.perf_counter()
    mark("stats")
    stats = layer_stats(scores, cfg)
    if b2b is not None and len(b2b):
        res.tables["coupling_maps"] = b2b
        stats["coupling"] = coupling_stats(b2b, cfg)
        res.tables["coupling_group"] = stats["coupling"]["group_table"]
        res.tables["transfer_latency"] = stats["coupling"]["latency_table"]
    for k in (
        "best_layer",
        "hierarchy_test",
        "hierarchy_preferred",
        "depth_lag",
        "model_comparison",
        "lag_curves",
    ):
        res.tables[k] = stats[k]
    res.stats = stats
    if truth is not None and "effect" in truth.effects:
        from ..report.layerwise_recovery import layerwise_recovery

        res.recovery = layerwise_recovery(res)
        if res.recovery is not None:
            res.tables["recovery"] = res.recovery.table
            (logger.info if res.recovery.ok else logger.warning)(res.recovery.summary())
    res.timings["stats"] = time.perf_counter() - t
    checkpoint("stats")
    res.exclusions = log.to_data_frame()
    res.tables["exclusions"] = res.exclusions
    _write(res, st, t0)
    extra = {
        "timings_s": res.timings,
        "cache": {
            f"{a}:{b}": int(n)
            for (a, b), n in res.cache.groupby(["step", "status"]).size().items()
        },
    }
    res.manifest = folder.commit(run_key, extra)  # fmt: skip
    out = res.out = folder.out
    res.figures = {k: out / "figures" / Path(p).name for k, p in res.figures.items()}
    res.report = out / "report.html" if res.report is not None else None
    return res


def _write(res: LayerwiseResult, st: Path, t0: float) -> None:
    from ..report.layerwise import layerwise_methods, write_layerwise_report

    for name, df in res.tables.items():
        if isinstance(df, pd.DataFrame):
            with atomic_write(st / "tables" / f"{name}.csv") as fh:
                df.to_csv(fh, index=False)
    res.methods = layerwise_methods(res)
    with atomic_write(st / "methods.txt") as fh:
        fh.write(res.methods)
    t = time.perf_counter()
    mark("report")
    res.out = st
    if res.config["report"].get("figures", True):
        from ..report.layerwise_figures import make_layerwise_figures

        res.figures = make_layerwise_figures(res, st / "figures")
    if res.config["report"].get("html", True):
        res.report = write_layerwise_report(res, st / "report.html")
    res.timings["report"] = time.perf_counter() - t
    res.timings["total"] = time.perf_counter() - t0
    res.summary = _summary(res)
    with atomic_write(st / "summary.json") as fh:
        json.dump(res.summary, fh, indent=2, default=str)
    checkpoint("report")


def _summary(res: LayerwiseResult) -> dict:
    ex = res.exclusions
    ht = res.tables.get("hierarchy_test")
    lat = res.tables.get("transfer_latency")
    return {
        "name": res.config["name"],
        "analysis": res.config["analysis"],
        "n_dyads_listed": res.n_dyads_listed,
        "n_dyads_analysed": res.n_dyads_analysed,
        "n_excluded": int(ex["n"].sum()) if ex is not None and len(ex) else 0,
        "best_layer": None if "best_layer" not in res.tables else
        res.tables["best_layer"].to_dict("records"),
        "hierarchy_test": None if ht is None else ht.to_dict("records"),
        "transfer_latency": None if lat is None else lat.to_dict("records"),
        "recovery": res.recovery.counts if res.recovery is not None else None,
        "timings_s": res.timings,
        "config": res.config,
    }  # fmt: skip


def layerwise_summary(res: LayerwiseResult) -> list[str]:
    """What a layer-wise run found, in a few console lines (after ``run_summary``'s first).

    Parameters
    ----------
    res : LayerwiseResult
        The run.

    Returns
    -------
    lines : list of str
        Best layer per ROI, the hierarchy test and the coupling peak with the latency.
    """
    t, cfg = res.tables, res.config
    text = str(cfg["features"]["text_model"]["name"])
    role = cfg["hierarchy"]["role"]
    lines = []
    best = t.get("best_layer")
    if best is not None and len(best):
        b = best[(best["model"] == text) & (best["role"] == role)]
        items = ", ".join(f"{r.roi} {str(r.best_layer).split(':')[-1]}" for r in b.itertuples())
        lines.append(f"  best {text} layer ({role}): {items}")
    ht = t.get("hierarchy_test")
    if ht is not None and len(ht):
        r = ht.iloc[0]
        lines.append(f"  hierarchy {r['order']}: statistic {r['statistic']:.2f}, "
                     f"p = {r['p_value']:.3g}")  # fmt: skip
    lat = t.get("transfer_latency")
    if lat is not None and len(lat):
        r = lat[lat["map_type"] == "raw"].iloc[0]
        lines.append(
            f"  coupling peak: speaker {r['speaker_lag']:+.3f} s, listener "
            f"{r['listener_lag']:+.3f} s; transfer latency {r['latency'] * 1000:+.0f} ms "
            f"(95% CI {r['ci_low'] * 1000:+.0f} to {r['ci_high'] * 1000:+.0f} ms)"
        )
    return lines


@fill_doc
@verbose
def run_layerwise_pipeline(
    config: str | Path | dict,
    *,
    out: str | Path | None = None,
    overrides: dict | None = None,
    verbose: bool | str | None = None,
) -> LayerwiseResult:
    """Run the layer-wise encoding pipeline and write tables, figures and an HTML report.

    Per-dyad steps (the layer sweep and the model-based coupling) are cached under
    ``out/cache`` keyed on the content of the dyad's inputs, the config sections they read
    and hyperalign's version; the layer embeddings are cached by the features stage. Outputs
    are staged in ``out/.staging`` and moved into place together, followed by
    ``out/manifest.json``.

    Parameters
    ----------
    config : path | dict
        A layer-wise pipeline YAML (``pipelines/layerwise_encoding.yaml``) or a mapping.
    out : path | None
        Output folder (default: ``config['out']``).
    overrides : dict | None
        ``{'section.key': value}`` settings applied on top of the file.
    %(verbose)s

    Returns
    -------
    result : LayerwiseResult
        Tables, figures, report, recovery, cache statuses and the manifest.

    See Also
    --------
    hyperalign.pipeline.run_pipeline : The semantic-vs-acoustic pipeline.
    hyperalign.encoding.sweep_layers, hyperalign.encoding.fit_b2b_coupling
    """
    from .outputs import RunFolder

    cfg = load_layerwise_config(config, overrides)
    out = Path(out or cfg.get("out") or "layerwise_output")
    folder = RunFolder(out, _results_hash(cfg))
    state: dict = {"cache": folder.cache, "n_total": cfg["data"].get("n_dyads", 0)}
    with handle_signals():
        folder.open()
        try:
            res = _run(cfg, folder, state)
        except KeyboardInterrupt as err:
            folder.close(failed=True)
            intr = err if isinstance(err, RunInterrupted) else RunInterrupted()
            intr.n_cached, intr.n_total = count_cached(state, cfg["execution"]["cache"], "lw_")
            if intr is err:
                raise
            raise intr from None
        except BaseException:
            folder.close(failed=True)
            raise
        folder.close()
    logger.info("pipeline %s done in %.1f s -> %s", cfg["name"], res.timings["total"], out)
    return res
