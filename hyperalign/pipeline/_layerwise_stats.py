"""Statistics of the layer-wise pipeline: best layers, hierarchy, controls, group coupling."""

from __future__ import annotations

import pandas as pd

from ..report.layerwise_data import TableSweep
from ._layerwise_steps import b2b_from_table

__all__ = ["layer_stats", "coupling_stats"]


def _text_name(cfg: dict) -> str:
    return str(cfg["features"]["text_model"]["name"])


def layer_stats(scores: pd.DataFrame, cfg: dict) -> dict:
    """Summaries of the sweep over dyads: tables keyed by name.

    ``best_layer`` (per model with depth, ROI and role, bootstrap CI over dyads),
    ``hierarchy_test``, ``depth_lag`` (depth vs peak lag per ROI), ``model_comparison``
    (every model's and control's best score per ROI and role), ``lag_curves`` (dyad-mean
    score per role, model, layer, ROI and lag).
    """
    from ..encoding import best_layer, depth_lag_correlation, hierarchy_test

    h = cfg["hierarchy"]
    lr = tuple(h["lag_range"]) if h.get("lag_range") else None
    roles = list(cfg["encoding"]["roles"])
    sweep = TableSweep(scores)
    text = _text_name(cfg)
    multi = scores.groupby("model")["layer"].nunique()
    models = [m for m in dict.fromkeys(scores["model"]) if multi[m] > 1]
    out: dict = {}
    rows = []
    for m in models:
        for role in roles:
            bl = best_layer(sweep, roles=(role,), model=m, lag_range=lr, n_boot=h["n_boot"],
                            random_state=h.get("random_state"))  # fmt: skip
            bl.insert(0, "model", m)
            rows.append(bl)
    out["best_layer"] = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()
    ht = hierarchy_test(sweep, h["order"], role=h["role"], model=text, lag_range=lr,
                        n_permutations=h["n_permutations"],
                        random_state=h.get("random_state"))  # fmt: skip
    htab = ht.to_data_frame()
    htab.insert(0, "model", text)
    out["hierarchy_test"] = htab
    out["hierarchy_preferred"] = ht.preferred
    dl = depth_lag_correlation(sweep, role=h["role"], model=text, lag_range=lr,
                               n_boot=h["n_boot"], random_state=h.get("random_state"))  # fmt: skip
    dl.insert(0, "model", text)
    out["depth_lag"] = dl
    out["model_comparison"] = _model_comparison(scores, lr)
    out["lag_curves"] = (
        scores.groupby(["role", "model", "modality", "layer", "layer_name", "depth", "roi",
                        "lag"], sort=False)["r"].mean().reset_index()
    )  # fmt: skip
    return out


def _model_comparison(scores: pd.DataFrame, lag_range) -> pd.DataFrame:
    """Per role, ROI and model (or control): the best layer's score at its best lag.

    Scores are dyad means (participants averaged first); the best layer and lag are chosen on
    the dyad mean; ``score_sd`` is the SD over dyads at that cell. The self-predictability
    baseline (``r_self``) is one more row (model ``own past``).
    """
    s = scores
    if lag_range is not None:
        s = s[(s["lag"] >= lag_range[0]) & (s["lag"] <= lag_range[1])]
    per_dyad = s.groupby(["role", "roi", "model", "modality", "layer_name", "lag", "dyad"],
                         sort=False)["r"].mean()  # fmt: skip
    mean = per_dyad.groupby(level=[0, 1, 2, 3, 4, 5], sort=False).agg(["mean", "std", "size"])
    rows = []
    for (role, roi, model, modality), g in mean.groupby(level=[0, 1, 2, 3], sort=False):
        best = g["mean"].idxmax()
        rows.append({"role": role, "roi": roi, "model": model, "modality": modality,
                     "best_layer": best[4], "lag": float(best[5]),
                     "score": float(g.loc[best, "mean"]), "score_sd": float(g.loc[best, "std"]),
                     "n_dyads": int(g.loc[best, "size"])})  # fmt: skip
    if "r_self" in s.columns and s["r_self"].notna().any():
        first = s["layer"].iloc[0]
        rs = s[s["layer"] == first].groupby(["role", "roi", "lag", "dyad"])["r_self"].mean()
        rm = rs.groupby(level=[0, 1, 2]).agg(["mean", "std", "size"])
        for (role, roi), g in rm.groupby(level=[0, 1]):
            best = g["mean"].idxmax()
            rows.append({"role": role, "roi": roi, "model": "own past", "modality": "baseline",
                         "best_layer": "r_self", "lag": float(best[2]),
                         "score": float(g.loc[best, "mean"]),
                         "score_sd": float(g.loc[best, "std"]),
                         "n_dyads": int(g.loc[best, "size"])})  # fmt: skip
    return pd.DataFrame(rows)


def coupling_stats(maps: pd.DataFrame, cfg: dict) -> dict:
    """Group coupling maps (word-weighted, sign-flip or bootstrap over dyads) for each map
    type and direction, and the transfer latency with its bootstrap CI."""
    from ..encoding import b2b_group_test, transfer_latency

    c = cfg["coupling"]
    results = [b2b_from_table(g) for _, g in maps.groupby("dyad", sort=False)]
    types = [k for k in ("raw", "residual", "direct") if k in set(maps["map_type"])]
    groups, rows = {}, []
    for map_type in types:
        for direction in ("s2l", "l2s", "sym"):
            g = b2b_group_test(results, map_type=map_type, direction=direction,
                               method=c["group_method"], n_permutations=c["group_permutations"],
                               random_state=c.get("random_state"))  # fmt: skip
            groups[(map_type, direction)] = g
            df = g.to_dataframe().reset_index()
            df.insert(0, "direction", direction)
            df.insert(0, "map_type", map_type)
            rows.append(df)
    pair = strongest_pair(groups[("raw", "s2l")])
    lat = {}
    for map_type in types:
        lat[map_type] = transfer_latency(results, map_type=map_type, direction="s2l",
                                         n_boot=c["n_boot"], roi_speaker=pair[0],
                                         roi_listener=pair[1],
                                         random_state=c.get("random_state"))  # fmt: skip
    lat_tab = pd.concat([v.to_data_frame().assign(map_type=k, direction="s2l",
                                                  roi_speaker=pair[0], roi_listener=pair[1])
                         for k, v in lat.items()], ignore_index=True)  # fmt: skip
    return {
        "pair": pair,
        "groups": groups,
        "group_table": pd.concat(rows, ignore_index=True),
        "latency": lat,
        "latency_table": lat_tab,
        "n_dyads": len(results),
        "n_words": int(sum(r.attrs.get("n_words", 0) for r in results)),
    }


def strongest_pair(group) -> tuple[str, str]:
    """The (speaker ROI, listener ROI) whose group map reaches the largest mean r."""
    import numpy as np

    m = group["mean"].transpose("roi_speaker", "roi_listener", "speaker_lag", "listener_lag")
    i, j = np.unravel_index(int(np.nanargmax(m.max(("speaker_lag", "listener_lag")).values)),
                            m.shape[:2])  # fmt: skip
    return str(m["roi_speaker"].values[i]), str(m["roi_listener"].values[j])
