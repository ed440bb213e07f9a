"""Run a pipeline: data -> features -> coupling -> stats -> report, cached per dyad and step."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..utils import ExclusionLog, atomic_write, logger, verbose_context
from .cache import StepCache
from .config import config_hash, load_config
from .executors import map_items

#: 10-20 name prefixes of the default regions of interest ("rois: auto").
AUTO_ROIS = {
    "frontal": ("Fp", "AF", "F"),
    "central": ("FC", "C"),
    "temporal": ("FT", "T", "TP"),
    "parietal": ("CP", "P", "PO", "O"),
}


@dataclass
class PipelineResult:
    """What a pipeline run produced (paths and in-memory tables)."""

    out: Path
    config: dict
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    figures: dict[str, Path] = field(default_factory=dict)
    report: Path | None = None
    timings: dict[str, float] = field(default_factory=dict)
    exclusions: pd.DataFrame | None = None
    stats: Any = None
    recovery: Any = None
    rois: dict | None = None


def auto_rois(ch_names: list[str]) -> dict[str, list[str]]:
    """Group 10-20 channel names into frontal / central / temporal / parietal-occipital ROIs.

    The longest matching prefix wins (``FC3`` is central, ``F3`` frontal, ``TP7`` temporal);
    channels that match no prefix are left out of every ROI (and listed in the log).
    """
    out: dict[str, list[str]] = {k: [] for k in AUTO_ROIS}
    pref = sorted(
        ((p, roi) for roi, ps in AUTO_ROIS.items() for p in ps), key=lambda x: -len(x[0])
    )
    unmatched = []
    for ch in ch_names:
        letters = "".join(c for c in ch if c.isalpha())
        for p, roi in pref:
            if letters.upper().startswith(p.upper()) and (
                len(letters) == len(p) or letters[len(p)].lower() == "z"
            ):
                out[roi].append(ch)
                break
        else:
            unmatched.append(ch)
    if unmatched:
        logger.info("auto ROIs: %d channel(s) in no ROI: %s", len(unmatched), unmatched)
    return {k: v for k, v in out.items() if v}


def _write_table(df: pd.DataFrame, path: Path) -> Path:
    with atomic_write(path) as fh:
        df.to_csv(fh, index=False)
    return path


# ---------------------------------------------------------------------------- steps
def step_data(cfg: dict, out: Path, log: ExclusionLog) -> tuple[list, Any]:
    """Load the dyads: simulate the demo study (and round-trip it through BIDS) or read BIDS."""
    from .. import io as hio

    d = cfg["data"]
    truth = None
    if d["source"] == "demo":
        from ..datasets import load_demo

        dyads, truth = load_demo(
            n_dyads=d["n_dyads"],
            duration=d["duration"],
            random_state=d["random_state"],
            n_channels=d["n_channels"],
            sfreq=d["sfreq"],
        )
        if d.get("bids_roundtrip", True):
            root = out / "bids"
            hio.write_bids_dyads(dyads, root, overwrite=True)
            problems = hio.validate_dataset(root)
            if problems:
                raise ValueError(
                    f"the demo BIDS folder {root} fails validation:\n"
                    + "\n".join(map(str, problems))
                )
            dyads, report = hio.read_bids_dyads(root)
            _write_table(report, out / "tables" / "bids_read_report.csv")
    else:
        root = d.get("root")
        if not root:
            raise ValueError("data.source is 'bids' but data.root is empty; give the BIDS root")
        dyads, report = hio.read_bids_dyads(root, task=d.get("task"))
        _write_table(report, out / "tables" / "bids_read_report.csv")
        if not dyads:
            raise ValueError(f"no dyad could be read from {root}; see bids_read_report.csv")
    for dy in dyads:
        log.extend(dy.exclusions)
    return dyads, truth


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


def _features_one(args) -> pd.DataFrame:
    dyad, cfg, cache_root, enabled = args
    from ..features import compute_predictors

    f = cfg["features"]
    cache = StepCache(cache_root, enabled)
    key = config_hash(f, dyad.dyad_id, dyad.transcript.n_words, dyad.duration)
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

    return cache.get_or_compute("features", dyad.dyad_id, key, compute)


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


def _coupling_one(args) -> pd.DataFrame:
    dyad, cfg, cache_root, enabled = args
    from ..coupling import compute_dyad_sync, summarize_utterances

    c = cfg["coupling"]
    cache = StepCache(cache_root, enabled)
    key = config_hash(c, dyad.dyad_id, dyad.duration, dyad.transcript.n_words)
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
            filter=c.get("filter", "hypyp"),
            filter_kwargs=c.get("filter_kwargs") or None,
        )
        coup = compute_dyad_sync(dyad, **kw)
        null = None
        s = c.get("surrogates")
        if s:
            from ..coupling.surrogates import compute_surrogate_sync

            null = compute_surrogate_sync(
                dyad, method=s["method"], n_surrogates=s["n"], random_state=0, **kw
            )
        return summarize_utterances(coup, rois=rois, surrogate=null)

    return cache.get_or_compute("sync", dyad.dyad_id, key, compute)


def step_features(dyads, cfg, out, n_jobs, executor) -> pd.DataFrame:
    enabled = cfg["execution"]["cache"]
    items = [(dy, cfg, out / "cache", enabled) for dy in dyads]
    tabs = map_items(_features_one, items, n_jobs=n_jobs, executor=executor, desc="features")
    return pd.concat(tabs, ignore_index=True)


def step_coupling(dyads, cfg, out, n_jobs, executor) -> pd.DataFrame:
    enabled = cfg["execution"]["cache"]
    items = [(dy, cfg, out / "cache", enabled) for dy in dyads]
    tabs = map_items(_coupling_one, items, n_jobs=n_jobs, executor=executor, desc="synchrony")
    return pd.concat(tabs, ignore_index=True)


def step_stats(sync: pd.DataFrame, preds: pd.DataFrame, cfg: dict, out: Path):
    from ..stats import build_analysis_table, test_semantic_beyond_acoustics

    s = cfg["stats"]
    sync = sync[sync["metric"] == s["metric"]] if "metric" in sync.columns else sync
    if cfg["coupling"].get("roi_pairs", "homologous") == "homologous" and "roi_in" in sync:
        sync = sync[sync["roi_in"] == sync["roi_out"]]
    table = build_analysis_table(sync, preds)
    acoustic = [a for a in s["acoustic"] if a in table.columns]
    missing = sorted(set(s["acoustic"]) - set(acoustic))
    if missing:
        logger.warning("stats: acoustic term(s) %s not in the predictor table; left out", missing)
    result = test_semantic_beyond_acoustics(
        table,
        sync=s["sync"],
        semantic=s["semantic"],
        acoustic=acoustic,
        covariates=s.get("covariates") or [],
        groups=s["groups"],
        by=tuple(s["by"]),
        n_permutations=s["n_permutations"],
        correction=s["correction"],
        scheme=s.get("scheme", "within"),
        alpha=s.get("alpha", 0.05),
        random_state=s["random_state"],
    )
    return table, result


# ---------------------------------------------------------------------------- driver
def run_pipeline(
    config: str | Path | dict,
    *,
    out: str | Path | None = None,
    overrides: dict | None = None,
    verbose: bool | str | None = None,
) -> PipelineResult:
    """Run every step of a pipeline config and write tables, figures and an HTML report.

    Each per-dyad step is cached under ``out/cache``: a rerun with the same config reuses
    finished work, and an interrupted run resumes where it stopped.

    Parameters
    ----------
    config : path | dict
        Pipeline YAML (see ``pipelines/``) or an already-parsed mapping.
    out : path | None
        Output folder (default: ``config['out']``).
    overrides : dict | None
        ``{'section.key': value}`` settings applied on top of the file.
    verbose : bool | str | None
        Log level for this call.
    """
    with verbose_context(verbose):
        cfg = load_config(config, overrides)
        out = Path(out or cfg.get("out") or "hyperalign_output")
        for sub in ("tables", "figures", "cache"):
            (out / sub).mkdir(parents=True, exist_ok=True)
        ex = cfg["execution"]
        res = PipelineResult(out=out, config=cfg)
        log = ExclusionLog()
        t0 = time.perf_counter()

        dyads, truth = step_data(cfg, out, log)
        res.timings["data"] = time.perf_counter() - t0
        logger.info("data: %d dyads", len(dyads))
        summ = pd.concat([dy.summary() for dy in dyads], ignore_index=True)
        res.tables["participants"] = summ
        if truth is not None and hasattr(truth, "utterances"):
            res.tables["ground_truth"] = truth.utterances
        if truth is not None and hasattr(truth, "effects"):
            res.tables["planted_effects"] = truth.effects

        t = time.perf_counter()
        preds = step_features(dyads, cfg, out, ex["n_jobs"], ex["executor"])
        res.tables["predictors"] = preds
        res.tables["layer_alignment"] = layer_alignment_table(
            preds, model=(cfg["features"].get("layers") or {}).get("model") or ""
        )
        res.timings["features"] = time.perf_counter() - t

        t = time.perf_counter()
        sync = step_coupling(dyads, cfg, out, ex["n_jobs"], ex["executor"])
        res.tables["synchrony"] = sync
        res.timings["coupling"] = time.perf_counter() - t

        t = time.perf_counter()
        table, stats = step_stats(sync, preds, cfg, out)
        res.tables["analysis"] = table
        res.tables["semantic_beyond_acoustics"] = stats.table
        res.stats = stats
        res.timings["stats"] = time.perf_counter() - t
        rois = cfg["coupling"].get("rois")
        res.rois = auto_rois(dyads[0].participants[0].raw.ch_names) if rois == "auto" else rois
        if "planted_effects" in res.tables:  # simulated: found vs planted, cell by cell
            from ..report.recovery import pipeline_recovery

            res.recovery = pipeline_recovery(res, res.rois)
            if res.recovery is not None:
                res.tables["recovery"] = res.recovery.table
                (logger.info if res.recovery.ok else logger.warning)(res.recovery.summary())

        for dy in dyads:
            log.extend(dy.exclusions)
        res.exclusions = log.to_data_frame()
        res.tables["exclusions"] = res.exclusions
        if "provenance" in preds.columns and len(preds):
            prov = {d: json.loads(v) for d, v in zip(preds["dyad"], preds["provenance"])}
            with atomic_write(out / "tables" / "provenance.json") as fh:
                json.dump(prov, fh, indent=1, default=str)
        for name, df in res.tables.items():
            if isinstance(df, pd.DataFrame) and "provenance" in df.columns:
                df = df.drop(columns="provenance")
            if isinstance(df, pd.DataFrame):
                df2 = df.drop(
                    columns=[
                        c
                        for c in df.columns
                        if df[c].dtype == object
                        and df[c].map(lambda v: isinstance(v, np.ndarray)).any()
                    ]
                )
                _write_table(df2, out / "tables" / f"{name}.csv")
        stats_dir = out / "tables"
        with atomic_write(stats_dir / "semantic_beyond_acoustics.md") as fh:
            fh.write(stats.to_markdown())
        with atomic_write(stats_dir / "semantic_beyond_acoustics.tex") as fh:
            fh.write(stats.to_latex())
        methods = stats.methods_text(
            metric=cfg["stats"]["metric"],
            bands=cfg["coupling"]["bands"],
            lags=cfg["coupling"]["lags"],
            surrogates=(cfg["coupling"].get("surrogates") or {})
            .get("method", "")
            .replace("_", " ")
            or None,
            n_surrogates=(cfg["coupling"].get("surrogates") or {}).get("n"),
            min_duration=cfg["coupling"]["min_duration"],
            semantic_model=cfg["features"]["semantic_model"],
        )
        with atomic_write(out / "methods.txt") as fh:
            fh.write(methods)

        t = time.perf_counter()
        if cfg["report"].get("figures", True):
            from ..report import make_figures

            res.figures = make_figures(res, out / "figures")
        if cfg["report"].get("html", True):
            from ..report import write_html_report

            res.report = write_html_report(res, out / "report.html", methods=methods)
        res.timings["report"] = time.perf_counter() - t
        res.timings["total"] = time.perf_counter() - t0
        summary = {
            "name": cfg["name"],
            "n_dyads": len(dyads),
            "timings_s": res.timings,
            "n_excluded": int(res.exclusions["n"].sum()) if len(res.exclusions) else 0,
            "recovery": res.recovery.counts if res.recovery is not None else None,
            "config": cfg,
        }
        with atomic_write(out / "summary.json") as fh:
            json.dump(summary, fh, indent=2, default=str)
        logger.info("pipeline %s done in %.1f s -> %s", cfg["name"], res.timings["total"], out)
        return res
