"""The layer-wise encoding report: one self-contained HTML page, answer first.

It opens with the question and the answer (the best layer per ROI with its CI, the hierarchy
test, text vs speech model, the coupling peak and the transfer latency), then the recovery of
the planted truth when the data are simulated, the figures, compact tables, the generated
methods paragraph, exclusions and the run. The page uses the main report's style
(:mod:`hyperalign.report.html`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .html import (
    _CSS,
    _E,
    _JS,
    _details,
    _exclusions_section,
    _f,
    _finish_page,
    _img,
    _planted_section,
    _recordings,
    _table,
)

__all__ = ["write_layerwise_report", "layerwise_methods"]

_CAPTIONS = {
    "role_lag_curves": "Production (dashed: the participant's own words) vs comprehension "
    "(solid: the partner's words): the dyad-mean out-of-fold r of each ROI's best text-model "
    "layer against the lag from word onset.",
    "layer_lag_maps": "Layer x lag map per ROI (text model; rows: roles): dyad-mean r.",
    "hierarchy_map": "Layer x ROI map: each ROI's layer profile (best-lag r, dyad mean) "
    "divided by its maximum; dot: best layer, bar: its 95% bootstrap CI over dyads.",
    "model_profiles": "Text model, speech model and controls per ROI against relative layer "
    "depth (lines: dyad mean; band: range over dyads; dashed lines: single-space controls).",
    "controls": "Best score per ROI of each model next to the controls and the own-past "
    "baseline (error bars: SD over dyads). No noise ceiling: see Methods.",
    "coupling_maps": "Model-based brain-to-brain coupling, speaker -> listener, group mean "
    "over dyads weighted by word count: raw, residual (acoustics and word rate removed from "
    "the listener, out of fold) and direct (model-free). Contours: family-wise p < 0.05 "
    "(sign-flip over dyads, max-statistic); cross: the planted lag pair.",
}
_ORDER = tuple(_CAPTIONS)


def _models(cfg) -> tuple[str, str | None]:
    f = cfg["features"]
    sm = f.get("speech_model")
    return str(f["text_model"]["name"]), (str(sm["name"]) if sm else None)


def _best_list(best: pd.DataFrame, model: str, role: str, order) -> str:
    b = best[(best["model"] == model) & (best["role"] == role)]
    if not len(b):
        return ""
    rank = {r: i for i, r in enumerate(order or [])}
    b = b.assign(_k=b["roi"].map(lambda r: rank.get(r, 99))).sort_values("_k")
    layers = list(dict.fromkeys(b["best_layer"]))  # labels of the layer axis
    names = {}
    for lab in best["best_layer"]:
        names[lab] = str(lab).split(":")[-1]
    items = []
    for _, r in b.iterrows():
        lo, hi = int(r["ci_low"]), int(r["ci_high"])
        ci = (
            f"{_E(_layer_at(best, model, lo))}"
            if lo == hi
            else f"{_E(_layer_at(best, model, lo))}&ndash;{_E(_layer_at(best, model, hi))}"
        )
        items.append(f"<b>{_E(str(r['roi']))}</b>: {_E(names[r['best_layer']])} "
                     f"(CI {ci}; r = {_f(r['score'])} at {_f(r['peak_lag'], 2)} s)")  # fmt: skip
    del layers
    return "; ".join(items)


_LAYERS: dict = {}


def _layer_at(best, model, idx: int) -> str:
    names = _LAYERS.get(model) or []
    return names[idx] if 0 <= idx < len(names) else str(idx)


def _coupling_answer(res) -> str:
    co = (res.stats or {}).get("coupling")
    if co is None:
        return "<p><b>Coupling.</b> Not run (coupling.enabled: false).</p>"
    g = co["groups"][("raw", "s2l")]
    pv = "p_fwer" if "p_fwer" in g else "p"
    rs, rl = co["pair"]
    m = g["mean"].sel(roi_speaker=rs, roi_listener=rl)
    i, j = np.unravel_index(int(np.nanargmax(m.values)), m.shape)
    sig = g[pv] < 0.05
    n_sig, n_all = int(sig.sum()), int(np.prod(sig.shape))
    lat = co["latency"].get("raw")
    lat_txt = ""
    if lat is not None:
        lat_txt = (f" Transfer latency there (listener minus speaker peak lag): "
                   f"<b>{lat.latency * 1000:+.0f} ms</b> (95% CI {lat.ci_low * 1000:+.0f} to "
                   f"{lat.ci_high * 1000:+.0f} ms).")  # fmt: skip
    res_g = co["groups"].get(("residual", "s2l"))
    resid = ""
    if res_g is not None:
        rm = res_g["mean"].sel(roi_speaker=rs, roi_listener=rl).values[i, j]
        n_r = int((res_g[pv] < 0.05).sum())
        resid = (f" Beyond acoustics (residual map): r = {_f(float(rm))} at that cell, "
                 f"{n_r} significant cell{'s' if n_r != 1 else ''}.")  # fmt: skip
    return (
        f"<p><b>Coupling.</b> The speaker's production model predicts the listener's held-out "
        f"activity in <b>{n_sig} of {n_all}</b> cells (ROI pair x speaker lag x listener lag; "
        f"{pv} &lt; 0.05, {co['n_dyads']} dyads). Strongest ROI pair {_E(rs)} &rarr; {_E(rl)}: "
        f"peak at speaker lag {float(m['speaker_lag'][i]):+.3f} s, listener lag "
        f"{float(m['listener_lag'][j]):+.3f} s (r = {_f(float(m.values[i, j]))}).{resid}"
        f"{lat_txt}</p>"
    )


def _compare_answer(res, text, speech, role) -> str:
    mc = res.tables.get("model_comparison")
    if mc is None or speech is None:
        return ""
    c = mc[mc["role"] == role].pivot_table(index="roi", columns="model", values="score")
    if text not in c or speech not in c:
        return ""
    better = [r for r in c.index if c.loc[r, speech] > c.loc[r, text]]
    ctrl = [m for m in c.columns if m not in (text, speech, "own past")]
    beat = [r for r in c.index if ctrl and c.loc[r, text] > c.loc[r, ctrl].max()]
    return (
        f"<p><b>Text vs speech.</b> The speech model ({_E(speech)}) predicts better than the "
        f"text model in {len(better)} of {len(c)} ROIs"
        f"{' (' + ', '.join(map(str, better)) + ')' if better else ''}; the text model beats "
        f"every control ({', '.join(map(str, ctrl))}) in {len(beat)} of {len(c)} ROIs.</p>"
    )


def _answer(res) -> str:
    cfg, t = res.config, res.tables
    text, speech = _models(cfg)
    h = cfg["hierarchy"]
    role = h["role"]
    part = t.get("participants")
    mins = float(part.groupby("dyad")["duration_s"].max().sum() / 60) if part is not None and \
        "duration_s" in part else float("nan")  # fmt: skip
    q = (f"Which layer of <b>{_E(text)}</b>{' and of <b>' + _E(speech) + '</b>' if speech else ''}"
         " best predicts each brain region, in the listener (comprehension) and the speaker "
         f"(production); does the preferred layer deepen along {_E(' → '.join(h['order']))}; "
         "and are the two brains coupled through the model's space?")  # fmt: skip
    parts = ["<section class='answer'>", f"<p><b>Question.</b> {q}</p>",
             f"<p><b>Data.</b> {res.n_dyads_analysed} of {res.n_dyads_listed} dyads analysed, "
             f"{mins:.1f} minutes.</p>"]  # fmt: skip
    best = t.get("best_layer")
    if best is not None and len(best):
        parts.append(f"<p class='big'><b>Answer.</b> Best {_E(text)} layer per ROI ({role}): "
                     f"{_best_list(best, text, role, h['order'])}.</p>")  # fmt: skip
    ht = t.get("hierarchy_test")
    if ht is not None and len(ht):
        r = ht.iloc[0]
        verdict = "deepens" if r["p_value"] < 0.05 else "is not shown to deepen"
        parts.append(f"<p><b>Hierarchy.</b> The preferred layer {verdict} along "
                     f"{_E(str(r['order']))}: statistic {_f(r['statistic'], 2)}, p = "
                     f"{_f(r['p_value'])} ({int(r['n_permutations'])} permutations of ROI "
                     f"labels, {int(r['n_dyads'])} dyads).</p>")  # fmt: skip
    parts.append(_compare_answer(res, text, speech, role))
    parts.append(_coupling_answer(res))
    rec = res.recovery
    if rec is not None:
        cls = "ok" if rec.ok else "bad"
        parts.append(
            f"<div class='rec {cls}'><b>Simulated data, checked against the planted "
            f"truth:</b> {_E(rec.summary().split(': ', 1)[-1])} (table below).</div>"
        )
    parts.append("</section>")
    return "".join(parts)


def layerwise_methods(res) -> str:
    """The methods paragraph of a layer-wise run, numbers filled from the run.

    Parameters
    ----------
    res : LayerwiseResult
        The run (config, tables, statistics).

    Returns
    -------
    text : str
        One paragraph (layer sweep, summaries, hierarchy test, coupling when run).
    """
    from .layerwise_data import lag_grid

    cfg, t = res.config, res.tables
    e, c, h, f = cfg["encoding"], cfg["coupling"], cfg["hierarchy"], cfg["features"]
    text, speech = _models(cfg)
    scores = t["sweep_scores"]
    lays = scores.drop_duplicates("layer")
    n_text = int((lays["model"] == text).sum())
    n_speech = int((lays["model"] == speech).sum()) if speech else 0
    lags, win = lag_grid(e["lags"], e.get("window"))
    lg = np.sort(scores["lag"].unique())
    step = float(np.diff(lg).min()) if lg.size > 1 else 0.0
    ctrl = ", ".join(f.get("controls") or []) or "none"
    n_rois = scores["roi"].nunique()
    pca = (
        f"each layer reduced to {e['n_components']} principal components fitted on the "
        "training words of each fold"
        if e.get("n_components")
        else "full layers (no PCA)"
    )
    txt = (
        f"Layer-wise encoding. For each of {res.n_dyads_analysed} dyads, word embeddings were "
        f"taken from {n_text} hidden states of {text} (context of "
        f"{f['text_model'].get('context_words', 32)} preceding words)"
        + (
            f" and from all {n_speech} encoder layers of {speech} (pooled over each word's "
            "frames, each word from its speaker's microphone)"
            if speech
            else ""
        )
        + f", with controls ({ctrl}). Brain activity was averaged over {n_rois} ROIs in "
        f"{_f(win or 0, 3)} s windows centred on word onset plus each of {lg.size} lags "
        f"({lg.min():+.3f} to {lg.max():+.3f} s, step {step:.3f} s). Ridge encoding models "
        "(penalty chosen per target by an inner "
        f"{e['inner_cv']}-fold search over the training words) were fitted per layer, "
        f"ROI, lag, participant and role (production: own words; comprehension: the "
        f"partner's words) and scored by the Pearson correlation on held-out words of "
        f"{e['cv']} contiguous folds, the same folds for every layer, role and brain of a dyad, "
        f"purged by the lag window; {pca}. The target's own past was scored as a baseline. "
        "No noise ceiling was computed: a two-person conversation has no repeated stimulus. "
        f"The best layer per ROI and role is the argmax of the dyad-mean profile (best lag "
        f"within {h.get('lag_range')} s), with a percentile CI from {h['n_boot']} bootstrap "
        "resamples of dyads. The hierarchy test correlates (Spearman) the position of each ROI "
        f"in the order {' -> '.join(h['order'])} with the depth of its preferred layer, "
        f"averaged over dyads, against {h['n_permutations']} permutations of ROI labels "
        "within dyads."
    )
    co = (res.stats or {}).get("coupling")
    if co is not None:
        cl, cw = lag_grid(c["lags"], c.get("window"))
        n_cl = len(cl) if not isinstance(cl, str) else "preset"
        nu = ", ".join(c.get("nuisance") or []) or "none"
        txt += (
            f" Model-based brain-to-brain coupling (Zada et al., 2024): in each dyad the "
            f"speaker's production model ({text}, {c['layer']}) predicted the speaker's "
            f"held-out activity at each of {n_cl} speaker lags, and the predictions were "
            f"correlated with the listener's held-out activity at each listener lag, per ROI "
            f"pair ({co['n_words']} held-out words in all). The residual map removes what "
            f"{nu} predict from the listener's activity out of fold; the direct map correlates "
            f"the two brains' activity at the same words. Each dyad's maps were compared with "
            f"{c['n_permutations']} {c['null_method']} null maps; group maps were weighted by "
            f"word count and tested with {c['group_permutations']} "
            f"{c['group_method'].replace('_', '-')} permutations over dyads (max-statistic "
            "over ROI pairs and both lag axes). The "
            f"transfer latency is the listener's minus the speaker's peak lag in the ROI pair "
            f"with the strongest group map ({co['pair'][0]} -> {co['pair'][1]}, chosen from "
            f"the data), with a CI from {c['n_boot']} bootstrap resamples of dyads."
        )
    return txt


def write_layerwise_report(result: Any, path: str | Path) -> Path:
    """Write the layer-wise run's self-contained HTML report.

    Parameters
    ----------
    result : LayerwiseResult
        What :func:`hyperalign.pipeline.layerwise.run_layerwise_pipeline` produced.
    path : path-like
        The ``.html`` file (written atomically).

    Returns
    -------
    path : pathlib.Path
        The file written.

    See Also
    --------
    hyperalign.report.write_html_report : The semantic pipeline's report.
    """
    cfg, t = result.config, result.tables
    text, _ = _models(cfg)
    sc = t["sweep_scores"]
    _LAYERS[text] = list(dict.fromkeys(sc.loc[sc["model"] == text, "layer_name"]))
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>hyperalign report: {_E(cfg['name'])}</title><style>{_CSS}</style>{_JS}",
        "</head><body><main>",
        f"<h1>hyperalign: {_E(cfg['name'])}</h1>",
        _answer(result),
    ]
    rec = result.recovery
    if rec is not None:
        cls = {"hit": "hit", "near": "hit", "miss": "miss"}
        parts.append("<h2 id='recovery'>Recovery of the planted truth</h2>")
        rt = rec.table[["item", "where", "planted", "found", "outcome", "detail"]]
        # one line per row (the full detail in each cell's tooltip and in recovery.csv)
        parts.append(_table(rt, left=tuple(rt.columns),
                            row_class=[cls.get(o, "") for o in rt["outcome"]]))  # fmt: skip
        parts.append("<p class='note'>near: the neighbouring swept layer (within one layer). "
                     "A lag pair is found when the group peak is within one lag step of the "
                     "planted pair on both axes.</p>")  # fmt: skip
    figs = result.figures or {}
    if figs:
        parts.append("<h2 id='figures'>Figures</h2>")
        for name in sorted(figs, key=lambda n: _ORDER.index(n) if n in _ORDER else 99):
            parts.append(f"<figure>{_img(figs[name], name)}<figcaption>"
                         f"{_E(_CAPTIONS.get(name, name))}</figcaption></figure>")  # fmt: skip
    parts.append(_tables_section(result))
    parts.append("<h2 id='data'>Data</h2>")
    parts.append(_recordings(t.get("participants")))
    if "planted_effects" in t and len(t["planted_effects"]):
        parts.append(_planted_layers(t["planted_effects"]))
    parts.append("<h2 id='methods'>Methods</h2>")
    parts.append(f"<div class='methods'>{_E(result.methods or layerwise_methods(result))}</div>")
    parts.append("<h2 id='exclusions'>Excluded items</h2>")
    parts.append(_exclusions_section(result.exclusions))
    parts.append("<h2 id='run'>Run</h2>")
    tim = pd.DataFrame({"step": list(result.timings), "seconds": list(result.timings.values())})
    parts.append(_table(tim, left=("step",), digits=1))
    n_jobs = result.config["execution"].get("n_jobs", 1)
    parts.append(
        "<p class='note'>Wall seconds; layers, sweep and coupling are summed over dyads"
        f" (run in {n_jobs} worker process(es); cached steps take no time).</p>"
    )
    out = getattr(result, "out", None)
    return _finish_page(parts, out, path)


def _planted_layers(eff: pd.DataFrame) -> str:
    """The planted layer responses and couplings (one row each, the same in every dyad), then
    the simulator's other effects in the main report's compact table."""
    lay = eff["effect"].isin(["layer_response", "model_coupling"]) if "effect" in eff else None
    if lay is None or not lay.any():
        return _planted_section(eff)
    e = _short_planted(eff[lay])
    cols = [c for c in ("effect", "description", "role", "lag_s", "speaker_lag_s",
                        "listener_lag_s", "size") if c in e]  # fmt: skip
    rows = e[cols].drop_duplicates(subset=["effect", "description"])
    n = eff.loc[lay, "dyad"].nunique() if "dyad" in eff else 1
    out = [
        "<h3>Planted layers and coupling (simulation ground truth, the same in all "
        f"{n} dyads)</h3>",
        _table(rows, left=("effect", "description", "role")),
    ]
    rest = eff[~lay]
    if len(rest):
        out.append(_details(f"The simulator's other planted effects ({rest['effect'].nunique()})",
                            _planted_section(rest)))  # fmt: skip
    return "".join(out)


def _short_planted(eff: pd.DataFrame) -> pd.DataFrame:
    """Planted effects with short descriptions of the layer rows (one line in the table)."""
    eff = eff.copy()
    if "layer" not in eff:
        return eff
    lay = eff["effect"] == "layer_response"
    eff.loc[lay, "description"] = [f"{r} responds to {la}" for r, la in
                                   zip(eff.loc[lay, "roi"], eff.loc[lay, "layer"])]  # fmt: skip
    cp = eff["effect"] == "model_coupling"
    eff.loc[cp, "description"] = [
        f"{r.replace('->', ' -> ')} share {la} at {s:+.2f} / {li:+.2f} s"
        for r, la, s, li in zip(eff.loc[cp, "roi"], eff.loc[cp, "layer"],
                                eff.loc[cp, "speaker_lag_s"], eff.loc[cp, "listener_lag_s"])
    ]  # fmt: skip
    return eff


def _tables_section(res) -> str:
    t = res.tables
    out = ["<h2 id='tables'>Results</h2>"]
    best = t.get("best_layer")
    if best is not None and len(best):
        b = best[["model", "role", "roi", "best_layer", "score", "peak_lag", "ci_low", "ci_high",
                  "n_dyads"]].copy()  # fmt: skip
        b["best_layer"] = b["best_layer"].map(lambda s: str(s).split(":")[-1])
        for col in ("ci_low", "ci_high"):
            b[col] = [_layer_at(None, m, int(i)) if m in _LAYERS else int(i)
                      for m, i in zip(b["model"], b[col])]  # fmt: skip
        b = b.rename(
            columns={
                "best_layer": "best layer",
                "peak_lag": "peak lag (s)",
                "ci_low": "CI low",
                "ci_high": "CI high",
                "n_dyads": "dyads",
            }
        )
        out.append("<h3>Best layer per ROI and role (95% bootstrap CI over dyads)</h3>")
        out.append(_details(f"{len(b)} rows", _table(b, left=("model", "role", "roi",
                                                              "best layer", "CI low",
                                                              "CI high"))))  # fmt: skip
    mc = t.get("model_comparison")
    if mc is not None and len(mc):
        out.append("<h3>Models, controls and the own-past baseline</h3>")
        out.append(
            _details(
                f"{len(mc)} rows",
                _table(mc, left=("role", "roi", "model", "modality", "best_layer")),
            )
        )
    for name, title in (("hierarchy_test", "Hierarchy test"),
                        ("depth_lag", "Layer depth vs peak lag (Spearman, CI over dyads)"),
                        ("transfer_latency", "Transfer latency (s)")):  # fmt: skip
        df = t.get(name)
        if df is not None and len(df):
            out.append(f"<h3>{_E(title)}</h3>")
            out.append(_table(df, left=("model", "order", "role", "roi", "map_type", "direction")))
    return "".join(out)
