"""Run a pipeline: data -> features -> coupling -> stats -> report, cached per dyad and step."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..utils import ExclusionLog, atomic_write, check_n_jobs, fill_doc, logger, verbose
from ._dyad_steps import (  # noqa: F401 - the per-dyad steps, importable here as before
    _coupling_one,
    _features_one,
    _map,
    _run_step,
    data_root,
    layer_alignment_table,
    speech_alignment,
    step_coupling,
    step_features,
    step_keys,
)
from ._stats_step import stats_key, step_stats  # noqa: F401 (step_stats: used below)
from .cache import StepCache, StepOutput, count_cached
from .config import ConfigError, config_hash, load_config
from .console import mark
from .data import step_data
from .interrupt import RunInterrupted, checkpoint, handle_signals
from .rois import AUTO_ROIS, auto_rois  # noqa: F401 (public here too)


@dataclass
class PipelineResult:
    """What a pipeline run produced (paths, in-memory tables and counts).

    Parameters
    ----------
    out : pathlib.Path
        Output folder.
    config : dict
        The validated configuration the run used.
    tables : dict of str to pandas.DataFrame
        The tables written to ``tables/`` (predictors, synchrony, statistics, ...), by name.
    figures : dict of str to pathlib.Path
        The figures written, by name.
    report : pathlib.Path | None
        The HTML report, if one was written.
    timings : dict of str to float
        Wall time per stage (s) and ``'total'``.
    exclusions : pandas.DataFrame | None
        Everything left out of the analysis, one row per exclusion (``exclusions.csv``).
    stats : SemanticTestResult | None
        The result of :func:`~hyperalign.stats.test_semantic_beyond_acoustics`.
    n_dyads_listed : int
        Dyads listed in the study (read or not).
    n_dyads_analysed : int
        Dyads that went into the analysis.
    summary : dict
        The contents of ``summary.json`` (also given to the report).
    cache : pandas.DataFrame | None
        One row per dyad and cached step: ``step, dyad, status`` (``hit``, ``miss``,
        ``invalid`` = an entry that failed its checksum, ``off``).
    manifest : dict | None
        The manifest written last (status ``'complete'``, checksums of every output).
    recovery : object | None
        On simulated data, how well the planted effects were recovered (has ``summary()``).
    rois : dict | None
        The regions of interest used, ``{roi: channel names}``.
    stage_cache : dict
        Status of the whole-study cached stages: ``{'data': ..., 'stats': ...}`` (same values;
        ``data`` only for the simulated demo study).

    See Also
    --------
    run_pipeline
    """

    out: Path
    config: dict
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    figures: dict[str, Path] = field(default_factory=dict)
    report: Path | None = None
    timings: dict[str, float] = field(default_factory=dict)
    exclusions: pd.DataFrame | None = None
    stats: Any = None
    n_dyads_listed: int = 0
    n_dyads_analysed: int = 0
    summary: dict = field(default_factory=dict)
    cache: pd.DataFrame | None = None
    manifest: dict | None = None
    recovery: Any = None
    rois: dict | None = None
    stage_cache: dict[str, str] = field(default_factory=dict)


def _write_table(df: pd.DataFrame, path: Path, cache_root=None) -> Path:
    """Write ``df`` as CSV; with ``cache_root``, the text of a table already written once (same
    content, same pandas) comes from the cache instead of being formatted again."""
    text = _csv_text(df, cache_root)
    with atomic_write(path, "wb") as fh:
        fh.write(text.encode())
        checkpoint(f"table:{path.stem}")  # test hook: pause with the .part file open
    return path


def _csv_text(df: pd.DataFrame, cache_root=None) -> str:
    if cache_root is None:
        return df.to_csv(index=False)
    from .hashing import hash_frame, hash_json

    try:
        key = hash_json("csv", pd.__version__, hash_frame(df))[:32]
    except (TypeError, ValueError):  # cells pandas cannot hash (lists): formatted every time
        return df.to_csv(index=False)
    got = StepCache(cache_root).run("csv", "tables", key, lambda: df.to_csv(index=False),
                                    fmt="text")  # fmt: skip
    return got.value


def _results_hash(cfg: dict) -> str:
    """Hash of the settings that change results (not the output folder or the execution)."""
    return config_hash({k: v for k, v in cfg.items() if k not in ("out", "execution")})


def _collect(outs: list[StepOutput], log: ExclusionLog, events: list[dict]) -> pd.DataFrame:
    for o in outs:
        log.rows.extend(dict(r) for r in o.exclusions)
        events.append({"step": o.step, "dyad": o.item, "status": o.status})
        if o.status == "hit" and o.exclusions:
            logger.info("%s/%s: %d exclusion row(s) restored from the cache", o.step, o.item,
                        len(o.exclusions))  # fmt: skip
    return pd.concat([o.value for o in outs], ignore_index=True)


def _write_outputs(res: PipelineResult, st: Path, stats, cfg: dict, cache_root=None) -> str:
    preds = res.tables["predictors"]
    if "provenance" in preds.columns and len(preds):
        prov = {d: json.loads(v) for d, v in zip(preds["dyad"], preds["provenance"])}
        with atomic_write(st / "tables" / "provenance.json") as fh:
            json.dump(prov, fh, indent=1, default=str)
    for name, df in res.tables.items():
        if not isinstance(df, pd.DataFrame):
            continue
        if "provenance" in df.columns:
            df = df.drop(columns="provenance")
        arrays = [
            c
            for c in df.columns
            if df[c].dtype == object and df[c].map(lambda v: isinstance(v, np.ndarray)).any()
        ]
        _write_table(df.drop(columns=arrays), st / "tables" / f"{name}.csv", cache_root)
    with atomic_write(st / "tables" / "semantic_beyond_acoustics.md") as fh:
        fh.write(stats.to_markdown())
    with atomic_write(st / "tables" / "semantic_beyond_acoustics.tex") as fh:
        fh.write(stats.to_latex())
    sur = cfg["coupling"].get("surrogates") or {}
    methods = stats.methods_text(
        metric=cfg["stats"]["metric"],
        bands=cfg["coupling"]["bands"],
        lags=cfg["coupling"]["lags"],
        surrogates=sur.get("method", "").replace("_", " ") or None,
        n_surrogates=sur.get("n"),
        min_duration=cfg["coupling"]["min_duration"],
        semantic_model=cfg["features"]["semantic_model"],
    )
    with atomic_write(st / "methods.txt") as fh:
        fh.write(methods)
    return methods


def _summary(res: PipelineResult, cfg: dict) -> dict:
    ex = res.exclusions
    by_kind = {str(k): int(v) for k, v in ex.groupby("kind")["n"].sum().items()}
    by_stage = {str(k): int(v) for k, v in ex.groupby("stage")["n"].sum().items()}
    return {
        "name": cfg["name"],
        "n_dyads": res.n_dyads_analysed,
        "n_dyads_listed": res.n_dyads_listed,
        "n_dyads_analysed": res.n_dyads_analysed,
        "n_excluded": int(ex["n"].sum()) if len(ex) else 0,
        "excluded_by_kind": by_kind,
        "excluded_by_stage": by_stage,
        "timings_s": res.timings,
        "recovery": res.recovery.counts if res.recovery is not None else None,
        "config": cfg,
    }


def _run(cfg: dict, folder, n_jobs: int, state: dict) -> PipelineResult:
    st = folder.staging
    res = PipelineResult(out=folder.out, config=cfg)
    log = ExclusionLog()
    t0 = time.perf_counter()
    dyads, truth, work = _read_data(cfg, folder, res, log, state, t0)
    keys, run_key = _hash_inputs(cfg, folder, res, log, dyads, work, state)
    _input_tables(res, dyads, truth)
    preds, sync = _per_dyad_steps(cfg, folder, res, log, dyads, keys, n_jobs, work)
    stats = _stats_stage(cfg, folder, res, log, dyads, sync, preds)
    res.exclusions = log.to_data_frame()
    res.tables["exclusions"] = res.exclusions
    methods = _write_outputs(res, st, stats, cfg,
                             folder.cache if cfg["execution"]["cache"] else None)  # fmt: skip
    _report_stage(cfg, res, st, methods, t0)
    return _commit(res, folder, run_key)


def _read_data(cfg: dict, folder, res: PipelineResult, log, state: dict, t0: float):
    """Read (or simulate) the dyads and check them against the config: (dyads, truth, work).

    ``work`` holds what Dask workers read, hashed and computed (``None`` when read here).
    """
    from .checks import check_study

    mark("data")
    work = None
    if _read_on_workers(cfg):  # dask + BIDS: workers read, hash and compute
        from ._dask_data import read_on_workers

        work = read_on_workers(cfg, folder.staging, folder.cache, log, WORKER_STEPS)
        dyads, truth, n_listed = work.dyads, None, work.n_listed
    else:
        dyads, truth, n_listed = step_data(cfg, folder.staging, log, folder.cache, res.stage_cache)
    res.n_dyads_listed = n_listed
    state["n_total"] = len(dyads)
    res.timings["data"] = time.perf_counter() - t0
    logger.info("data: %d of %d listed dyads read", len(dyads), n_listed)
    problems = check_study(cfg, dyads, n_listed)
    if problems:
        raise ConfigError(problems, what="the data do not fit the pipeline config")
    return dyads, truth, work


def _hash_inputs(cfg: dict, folder, res: PipelineResult, log, dyads, work, state: dict):
    """Content hashes of the dyads: the per-dyad step keys and the key of the whole run."""
    from .. import __version__
    from .hashing import hash_dyad, hash_json

    t = time.perf_counter()
    known = res.stage_cache.pop("hashes", None) or {}  # stored with the cached demo data
    if work is not None:
        hashes = work.hashes
    else:
        hashes = {dy.dyad_id: known.get(dy.dyad_id) or hash_dyad(dy) for dy in dyads}
    res.timings["hash"] = time.perf_counter() - t
    keys = {did: step_keys(cfg, h) for did, h in hashes.items()}
    state["keys"] = keys
    run_key = hash_json(_results_hash(cfg), __version__, res.n_dyads_listed, log.rows,
                        [hashes[dy.dyad_id].all() for dy in dyads])  # fmt: skip
    folder.check_inputs(run_key)
    checkpoint("data")
    return keys, run_key


def _input_tables(res: PipelineResult, dyads, truth) -> None:
    """The participants table and, on simulated data, the ground truth and planted effects."""
    res.tables["participants"] = pd.concat([dy.summary() for dy in dyads], ignore_index=True)
    if truth is not None and hasattr(truth, "utterances"):
        res.tables["ground_truth"] = truth.utterances
    if truth is not None and hasattr(truth, "effects"):
        res.tables["planted_effects"] = truth.effects


def _per_dyad_steps(cfg: dict, folder, res: PipelineResult, log, dyads, keys, n_jobs, work):
    """The features and coupling steps of every dyad (cached): (predictors, synchrony)."""
    ex = cfg["execution"]
    events: list[dict] = []
    t = time.perf_counter()
    root = data_root(cfg, folder.staging)
    outs = (
        work.features
        if work is not None
        else step_features(dyads, cfg, folder.cache, keys, n_jobs, ex["executor"], root)
    )
    preds = _collect(outs, log, events)
    res.tables["predictors"] = preds
    res.tables["layer_alignment"] = layer_alignment_table(
        preds, model=(cfg["features"].get("layers") or {}).get("model") or ""
    )
    res.timings["features"] = time.perf_counter() - t

    t = time.perf_counter()
    outs = (
        work.sync
        if work is not None
        else step_coupling(dyads, cfg, folder.cache, keys, n_jobs, ex["executor"], root)
    )
    sync = _collect(outs, log, events)
    res.tables["synchrony"] = sync
    res.timings["coupling"] = time.perf_counter() - t
    res.cache = pd.DataFrame(events, columns=["step", "dyad", "status"])
    return preds, sync


def _stats_stage(cfg: dict, folder, res: PipelineResult, log, dyads, sync, preds):
    """The statistics (cached), the dyads left out of them and, when simulated, recovery."""
    t = time.perf_counter()
    mark("stats")
    table, stats = step_stats(sync, preds, cfg, folder.staging, folder.cache, res.stage_cache)
    res.tables["analysis"] = table
    res.tables["semantic_beyond_acoustics"] = stats.table
    res.stats = stats
    stats_log = getattr(stats, "exclusions", None)
    if stats_log is not None:
        log.rows.extend(dict(r) for r in stats_log.rows)
    analysed = set(table["dyad"].astype(str)) if "dyad" in table.columns else set()
    for dy in dyads:
        if str(dy.dyad_id) not in analysed:
            log.add("stats", "dyad", dy.dyad_id, "no utterance left for the analysis")
    res.n_dyads_analysed = len(analysed)
    res.timings["stats"] = time.perf_counter() - t
    rois = cfg["coupling"].get("rois")
    res.rois = auto_rois(dyads[0].participants[0].raw.ch_names) if rois == "auto" else rois
    if "planted_effects" in res.tables:  # simulated: found vs planted, cell by cell
        from ..report.recovery import pipeline_recovery

        res.recovery = pipeline_recovery(res, res.rois)
        if res.recovery is not None:
            res.tables["recovery"] = res.recovery.table
            (logger.info if res.recovery.ok else logger.warning)(res.recovery.summary())
    checkpoint("stats")
    return stats


def _report_stage(cfg: dict, res: PipelineResult, st: Path, methods: str, t0: float) -> None:
    """Figures, the HTML report and ``summary.json``, in the staging folder."""
    t = time.perf_counter()
    mark("report")
    res.out = st  # the report and figures are made in the staging folder
    res.summary = _summary(res, cfg)
    if cfg["report"].get("figures", True):
        from ..report import make_figures

        res.figures = make_figures(res, st / "figures")
    if cfg["report"].get("html", True):
        from ..report import write_html_report

        res.report = write_html_report(res, st / "report.html", methods=methods)
    res.timings["report"] = time.perf_counter() - t
    res.timings["total"] = time.perf_counter() - t0
    res.summary = _summary(res, cfg)
    with atomic_write(st / "summary.json") as fh:
        json.dump(res.summary, fh, indent=2, default=str)
    checkpoint("report")


def _commit(res: PipelineResult, folder, run_key: str) -> PipelineResult:
    """Move the outputs into place with the manifest; paths of the result point there."""
    cache_counts = res.cache.groupby(["step", "status"]).size()
    extra = {
        "timings_s": res.timings,
        "cache": {f"{a}:{b}": int(n) for (a, b), n in cache_counts.items()},
        "stage_cache": dict(res.stage_cache),
    }
    res.manifest = folder.commit(run_key, extra)
    out = res.out = folder.out
    res.figures = {k: out / "figures" / Path(p).name for k, p in res.figures.items()}
    res.report = out / "report.html" if res.report is not None else None
    return res


#: what a Dask worker runs for one dyad (:func:`~._dask_data.work_dyad`)
WORKER_STEPS = (_features_one, _coupling_one, step_keys)


def _read_on_workers(cfg: dict) -> bool:
    """Dask run of a BIDS study: the dyads are read, hashed and computed on the workers."""
    from .dask import active_client

    return (
        cfg["execution"]["executor"] == "dask"
        and cfg["data"]["source"] == "bids"
        and active_client() is not None
    )


def _check_root_outside(cfg: dict, out: Path) -> None:
    """A BIDS root inside the outputs a run replaces (``out/bids`` of a demo) would vanish."""
    from .outputs import OUTPUTS

    root = cfg["data"].get("root")
    if cfg["data"]["source"] != "bids" or not root:
        return
    r = Path(root).resolve()
    for name in OUTPUTS + ("previous", ".staging"):
        o = (out / name).resolve()
        if r == o or o in r.parents:
            raise ConfigError(
                [
                    f"data.root: {str(root)!r} lies inside {str(out / name)!r}, which this run "
                    "replaces; copy the data elsewhere or choose another --out"
                ]
            )


def _executor_session(cfg: dict, folder, n_jobs: int):
    """The run's Dask cluster (one per run, checked before computing), or nothing."""
    import contextlib

    ex = cfg["execution"]
    if ex["executor"] != "dask":
        return contextlib.nullcontext()
    from .dask import dask_session

    root = cfg["data"].get("root") if cfg["data"]["source"] != "demo" else None
    read = [Path(root) / "dyads.tsv"] if root and (Path(root) / "dyads.tsv").is_file() else []
    return dask_session(ex.get("scheduler"), n_workers=n_jobs, paths=[folder.cache,
                        folder.staging], read_files=read)  # fmt: skip


@fill_doc
@verbose
def run_pipeline(
    config: str | Path | dict,
    *,
    out: str | Path | None = None,
    overrides: dict | None = None,
    verbose: bool | str | None = None,
) -> PipelineResult:
    """Run every step of a pipeline config and write tables, figures and an HTML report.

    Per-dyad steps are cached under ``out/cache``, keyed on the content of their inputs
    (recordings, audio, transcript), their config section and hyperalign's version: a rerun
    reuses finished work and recomputes exactly the steps whose inputs changed. The outputs
    are written into ``out/.staging`` and moved into place together at the end, followed by
    ``out/manifest.json`` (status ``'complete'``); outputs of another config or other data are
    moved to ``out/previous/``. Ctrl-C or SIGTERM stop the run with
    :class:`~hyperalign.pipeline.interrupt.RunInterrupted` (a ``KeyboardInterrupt``); a rerun
    resumes from the cache.

    Parameters
    ----------
    config : path | dict
        Pipeline YAML (see ``pipelines/``) or an already-parsed mapping.
    out : path | None
        Output folder (default: ``config['out']``).
    overrides : dict | None
        ``{'section.key': value}`` settings applied on top of the file.
    %(verbose)s

    Returns
    -------
    result : PipelineResult
        Tables, figures, report path, counts (``n_dyads_listed``, ``n_dyads_analysed``),
        exclusions, cache statuses and the manifest.

    See Also
    --------
    hyperalign.pipeline.load_config, hyperalign.pipeline.verify_outputs

    Examples
    --------
    The bundled pipeline (``pipelines/semantic_vs_acoustic.yaml``; a dict is merged into it
    section by section) on a small simulated study: six dyads of 40 s (six is the fewest for
    which the mixed models do not warn that the random-intercept variance is poorly
    estimated), no layer-wise language model, few surrogates and permutations. It takes
    about 15 s; ``hyperalign demo`` runs the full-size study. With so little data the
    random-intercept variance is estimated at 0 in some cells, and a warning says so
    (``singular fit in ... cell(s)``).

    >>> from hyperalign.pipeline import run_pipeline
    >>> res = run_pipeline(
    ...     {
    ...         "data": {"n_dyads": 6, "duration": 40.0, "n_channels": 8, "bids_roundtrip": False},
    ...         "features": {"layers": None},
    ...     },
    ...     out="demo_output",
    ...     overrides={"coupling.surrogates.n": 5, "stats.n_permutations": 50,
    ...                "report.figures": False},
    ...     verbose="error",
    ... )
    >>> res.n_dyads_analysed, res.manifest["status"], res.report.name
    (6, 'complete', 'report.html')
    >>> res.stats.table[["band", "roi", "lag", "beta_sem", "p_corrected"]].shape
    (24, 5)
    >>> sorted(p.name for p in (res.out / "tables").iterdir())
    ['analysis.csv', ..., 'semantic_beyond_acoustics.csv', ..., 'synchrony.csv']
    """
    from .outputs import RunFolder

    cfg = load_config(config, overrides)
    n_jobs = check_n_jobs(cfg["execution"]["n_jobs"])
    out = Path(out or cfg.get("out") or "hyperalign_output")
    _check_root_outside(cfg, out)
    folder = RunFolder(out, _results_hash(cfg))
    state: dict = {"cache": folder.cache, "n_total": 0}
    if cfg["data"]["source"] == "demo":
        state["n_total"] = cfg["data"]["n_dyads"]
    else:  # the dyads listed, for a message if the run is stopped while they are read
        from ..io import read_manifest as _read_dyads_tsv

        try:
            state["n_total"] = len(_read_dyads_tsv(cfg["data"]["root"]))
        except Exception:  # the data step reports an unreadable dyads.tsv properly
            pass
    with handle_signals():
        folder.open()
        try:
            with _executor_session(cfg, folder, n_jobs):
                res = _run(cfg, folder, n_jobs, state)
        except KeyboardInterrupt as err:
            folder.close(failed=True)
            intr = err if isinstance(err, RunInterrupted) else RunInterrupted()
            intr.n_cached, intr.n_total = count_cached(state, cfg["execution"]["cache"])
            logger.info("run interrupted: %s", intr)
            if intr is err:
                raise
            raise intr from None
        except BaseException:
            folder.close(failed=True)
            raise
        folder.close()
    logger.info("pipeline %s done in %.1f s -> %s", cfg["name"], res.timings["total"], out)
    return res
