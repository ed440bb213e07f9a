"""Steps of the layer-wise encoding pipeline: data, layer embeddings, sweep, coupling.

Each per-dyad step returns a table (cached by :class:`~hyperalign.pipeline.StepCache` under a
content key: the dyad's input digests, the step's config sections and hyperalign's version).
The layer embeddings themselves are cached by :mod:`hyperalign.features` (keyed on the words,
the audio and the model), so a cached rerun computes no forward pass.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..report.layerwise_data import TableSweep, lag_grid
from ..utils import ExclusionLog, check_n_jobs, logger

__all__ = ["lag_grid", "resolve_rois", "TextLayers", "layerwise_data", "dyad_features",
           "sweep_table", "b2b_table", "TableSweep", "b2b_from_table"]  # fmt: skip


# ----------------------------------------------------------------------------- settings
def resolve_rois(cfg: dict, ch_names: list[str]) -> dict[str, list[str]]:
    """The ROIs of the config (``'auto'``: the 10-20 groups of the simulator)."""
    rois = cfg["encoding"]["rois"]
    if rois == "auto":
        from ..simulation import default_rois

        out = default_rois(list(ch_names))
        if not out:
            raise ValueError(
                f"encoding.rois: auto found no 10-20 channel names among {list(ch_names)[:8]}; "
                "give encoding.rois as {name: [channels]}"
            )
        return out
    missing = {k: [c for c in v if c not in ch_names] for k, v in rois.items()}
    missing = {k: v for k, v in missing.items() if v}
    if missing:
        raise ValueError(
            f"encoding.rois names channels the recordings do not have: {missing}; the "
            f"channels are {list(ch_names)[:12]}..."
        )
    return {k: list(v) for k, v in rois.items()}


def _text_kw(cfg: dict) -> dict:
    t = cfg["features"]["text_model"]
    return {"context_words": int(t.get("context_words", 32)), "stride": int(t.get("stride", 16))}


def _select_names(le, layers, what: str) -> list[int]:
    """Positions of the requested layers in ``le`` (error naming what the model has)."""
    if layers == "all" or layers is None:
        return list(range(le.n_layers))
    out = []
    for lay in layers:
        if isinstance(lay, str):
            if lay not in le.layer_names:
                raise ValueError(f"{what}: {lay!r} is not a layer of {le.model!r}; its layers "
                                 f"are {le.layer_names}")  # fmt: skip
            out.append(le.layer_names.index(lay))
        else:
            if not 0 <= int(lay) < le.n_layers:
                raise ValueError(
                    f"{what}: layer {lay} was asked but {le.model!r} has {le.n_layers} hidden "
                    f"states (0..{le.n_layers - 1}); ask for fewer layers"
                )
            out.append(int(lay))
    return out


def _subset(le, idx: list[int]):
    from ..features.layers import LayerEmbeddings

    params = dict(le.params, layers=[le.params.get("layers", list(range(le.n_layers)))[i]
                                     for i in idx] if "layers" in le.params else idx)  # fmt: skip
    return LayerEmbeddings(le.words, le.data[:, idx], [le.layer_names[i] for i in idx],
                           le.surprisal, le.entropy, le.model, params, level=le.level)  # fmt: skip


class TextLayers:
    """The text model's selected layers of a transcript (a picklable callable; cached)."""

    def __init__(self, cfg: dict, cache: Path | None):
        self.name = cfg["features"]["text_model"]["name"]
        self.layers = cfg["features"]["text_model"]["layers"]
        self.kw = _text_kw(cfg)
        self.cache = cache

    def __call__(self, transcript):
        from ..features import compute_layer_embeddings

        le = compute_layer_embeddings(transcript, self.name, layers="all",
                                      cache=self.cache if self.cache else False, verbose="error",
                                      **self.kw)  # fmt: skip
        return _subset(le, _select_names(le, self.layers, "features.text_model.layers"))


# ----------------------------------------------------------------------------- data
def layerwise_data(cfg: dict, staging: Path, log: ExclusionLog, emb_cache: Path | None):
    """Simulate the demo study with the planted layers (or read BIDS): dyads, truth, listed."""
    d = cfg["data"]
    if d["source"] != "demo":
        from .data import step_data

        return step_data(cfg, staging, log)
    from ..datasets import load_demo

    sim = cfg.get("simulation") or {}
    kw: dict[str, Any] = {}
    if sim.get("layer_hierarchy") or sim.get("model_coupling"):
        kw["layer_hierarchy"] = sim.get("layer_hierarchy") or None
        kw["model_coupling"] = sim.get("model_coupling") or None
        text = cfg["features"]["text_model"]["name"]
        if sim.get("layer_source", "text_model") == "text_model" and text != "simulated":
            kw["layer_features"] = TextLayers(cfg, emb_cache)
    kw.update(n_channels=d["n_channels"], sfreq=d["sfreq"])
    n_jobs = min(check_n_jobs(cfg["execution"].get("n_jobs", 1)), int(d["n_dyads"]))
    try:
        if n_jobs > 1 and "layer_features" in kw:  # the text model's forward passes: parallel
            dyads, truth = _simulate_parallel(d, kw, n_jobs)
        else:
            dyads, truth = load_demo(d["n_dyads"], d["duration"], d["random_state"],
                                     verbose="error", **kw)  # fmt: skip
    except ValueError as err:
        raise ValueError(f"simulation: {err}") from None
    n_listed = len(dyads)
    if d.get("bids_roundtrip"):
        from .. import io as hio

        root = staging / "bids"
        hio.write_bids_dyads(dyads, root, overwrite=True)
        dyads, report = hio.read_bids_dyads(root)
        for r in report.itertuples():
            log.add("data", "dyad", r.dyad_id, f"not read ({r.stage}: {r.error})")
    for dy in dyads:
        log.extend(dy.exclusions)
    return dyads, truth, n_listed


def _simulate_one(duration, seed, dyad_id, kw):
    import torch

    from ..simulation import simulate_conversation

    torch.set_num_threads(1)
    return simulate_conversation(duration, random_state=seed, dyad_id=dyad_id, verbose="error",
                                 **kw)  # fmt: skip


def _simulate_parallel(d: dict, kw: dict, n_jobs: int):
    """:func:`~hyperalign.datasets.load_demo`'s study, one dyad per worker process: the same
    seeds (``simulate_study``'s child seeds) and dyad ids, so the same dyads."""
    from joblib import Parallel, delayed

    from ..simulation._truth import StudyTruth
    from ..utils import check_random_state

    n = int(d["n_dyads"])
    seeds = check_random_state(d["random_state"]).integers(0, 2**63 - 1, size=n)
    out = Parallel(n_jobs=n_jobs)(
        delayed(_simulate_one)(d["duration"], int(seeds[i]), f"demo-{i + 1:02d}", kw)
        for i in range(n)
    )
    params = {"n_dyads": n, "duration": d["duration"], **kw}
    params["random_state"] = d["random_state"] if isinstance(d["random_state"], int) else None
    return [o[0] for o in out], StudyTruth([o[1] for o in out], params)


# ----------------------------------------------------------------------------- features
def dyad_features(dyad, cfg: dict, emb_cache: Path | None, truth=None) -> dict:
    """Every feature space swept for one dyad: text layers, speech layers and controls."""
    from ..features.controls import (
        compute_static_embeddings,
        random_word_embeddings,
        shuffle_word_embeddings,
    )
    from ..features.layers import LayerEmbeddings

    f = cfg["features"]
    tm = f["text_model"]
    cache = emb_cache if emb_cache else False
    tr = dyad.transcript
    if tm["name"] == "simulated":
        if truth is None:
            raise ValueError("features.text_model.name: 'simulated' needs the simulation truth")
        le = LayerEmbeddings.from_truth(truth)
        le = _subset(le, _select_names(le, tm["layers"], "features.text_model.layers"))
        text_name = "simulated"
    else:
        le = TextLayers(cfg, emb_cache)(tr)
        text_name = str(tm["name"])
    out: dict = {text_name: le}
    sm = f.get("speech_model")
    if sm:
        from ..features import compute_speech_layer_embeddings

        if any(p.audio is None for p in dyad.participants):
            raise ValueError(
                f"features.speech_model: dyad {dyad.dyad_id!r} has no audio for every "
                "participant; set speech_model: null or give the microphone recordings"
            )
        # verbose left at None: the features' progress bar reads a string level as "show"
        sp = compute_speech_layer_embeddings(dyad, model=sm["name"], cache=cache)
        out[str(sm["name"])] = _subset(
            sp, _select_names(sp, sm.get("layers", "all"), "features.speech_model.layers")
        )
    controls = list(f.get("controls") or [])
    if "static" in controls:
        if tm["name"] == "simulated":
            from ..simulation import word_vector

            vec = np.stack([word_vector(w, le.dim) for w in tr.words["word"]])[:, None]
            out["static"] = LayerEmbeddings(le.words, vec, ["static"], model="static",
                                            params={"control": "static"})  # fmt: skip
        else:
            out["static"] = compute_static_embeddings(tr, tm["name"], verbose="error")
    if "random" in controls:
        out["random"] = random_word_embeddings(tr, dim=le.dim, random_state=0)
    if "shuffled" in controls:
        out["shuffled"] = shuffle_word_embeddings(_subset(le, [le.n_layers - 1]), random_state=0)
    if "acoustic" in controls:
        ac = _acoustic(dyad)
        if ac is not None:
            out["acoustic"] = ac
    for k in ("static", "random", "shuffled"):
        if k in out:
            out[k].params["control"] = k
    return out


def _acoustic(dyad):
    """Acoustic word features, or None (logged) when the dyad has no audio."""
    from ..encoding import acoustic_word_features

    if any(p.audio is None for p in dyad.participants):
        logger.warning("dyad %s has no audio: the acoustic control is left out", dyad.dyad_id)
        return None
    return acoustic_word_features(dyad)


# ----------------------------------------------------------------------------- sweep
def sweep_table(dyad, feats: dict, cfg: dict, rois: dict) -> pd.DataFrame:
    """The layer sweep of one dyad as a tidy table (one row per participant, role, layer,
    ROI and lag): ``r``, ``r2`` and ``r_self`` when the self baseline is on."""
    from ..encoding import sweep_layers

    e = cfg["encoding"]
    lags, window = lag_grid(e["lags"], e.get("window"))
    sw = sweep_layers(
        [dyad], [feats], roles=tuple(e["roles"]), lags=lags, window=window, cv=int(e["cv"]),
        inner_cv=int(e["inner_cv"]), alpha_search=e.get("alpha_search", "inner_cv"),
        n_components=e.get("n_components"), rois=rois,
        self_baseline=bool(e.get("self_baseline")), verbose="error",
    )  # fmt: skip
    df = sw.to_data_frame()
    df = df.rename(columns={"target": "roi"})
    df["participant_index"] = df["participant"].map({p: i for i, p in enumerate(dyad.ids)})
    excl = []
    for res in sw.results.values():
        excl.extend(res.dataset.attrs.get("exclusions") or [])
    df.attrs = {}
    for k in ("layer", "model", "modality", "layer_name", "roi", "role", "participant"):
        df[k] = df[k].astype(str)
    return df, excl, sw.timings


# ----------------------------------------------------------------------------- coupling
def b2b_table(dyad, feats: dict, cfg: dict, rois: dict, text_name: str) -> pd.DataFrame:
    """Model-based brain-to-brain coupling of one dyad (raw, residual, direct maps) as a
    tidy table, with the dyad's held-out word count."""
    from ..encoding import fit_b2b_coupling

    c = cfg["coupling"]
    le = feats[text_name]
    layer = c["layer"]
    if isinstance(layer, int):
        layer = "embeddings" if layer == 0 else f"layer_{layer}"
    if layer not in le.layer_names:
        raise ValueError(
            f"coupling.layer: {c['layer']!r} is not among the swept layers of {text_name!r} "
            f"{le.layer_names}; choose one of them"
        )
    nuisance: dict = {}
    for n in c.get("nuisance") or []:
        if n == "acoustic":
            ac = feats["acoustic"] if "acoustic" in feats else _acoustic(dyad)
            if ac is not None:
                nuisance["acoustic"] = ac
        elif n == "word_rate":
            nuisance["word_rate"] = "word_rate"
    lags, window = lag_grid(c["lags"], c.get("window"))
    res = fit_b2b_coupling(
        dyad, le, layer=layer, lags=lags, window=window, rois=rois, cv=int(cfg["encoding"]["cv"]),
        nuisance=nuisance or None, n_permutations=int(c["n_permutations"]), null=c["null_method"],
        random_state=c.get("random_state"), verbose="error",
    )  # fmt: skip
    df = res.to_data_frame()
    df["n_words"] = int(res.attrs.get("n_words", 0))
    df["layer"] = layer
    excl = list(res.attrs.get("exclusions") or [])
    return df, excl


def b2b_from_table(df: pd.DataFrame):
    """A :class:`~hyperalign.encoding.B2BCoupling` rebuilt from its cached table."""
    import xarray as xr

    from ..encoding import B2BCoupling

    dims = ["map_type", "direction", "roi_speaker", "roi_listener", "speaker_lag", "listener_lag"]
    vs = [v for v in ("r", "p", "p_fwer") if v in df.columns]
    ds = xr.Dataset.from_dataframe(df.set_index(dims)[vs])
    ds.attrs.update({"n_words": int(df["n_words"].iloc[0]), "dyad_id": str(df["dyad"].iloc[0])})
    return B2BCoupling(ds)
