"""Recovery of the planted layer hierarchy and model-based coupling by the layer-wise pipeline.

For a simulated study (``simulate_conversation(layer_hierarchy=..., model_coupling=...)``):

- **planted layer per ROI**: the best layer of the ROI (the text model's layers, the role the
  response was planted in: ``'listener'`` -> comprehension, ``'speaker'`` -> production) is
  the planted layer (``hit``), its neighbour in the swept layers (``near``, counted as a hit:
  the issue's "within one layer"), or another layer (``miss``);
- **planted lag pair**: the peak of the group raw speaker -> listener map of the planted ROI
  pair is within one lag step of the planted speaker and listener lags on both axes (``hit``);
  ``significant`` says whether the group test's family-wise p at the planted cell is below
  ``alpha``;
- **hierarchy**: when at least two ROIs were planted with different layers, the hierarchy
  test of the planted ordering (shallow to deep) is significant (``hit``) or not (``miss``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = ["LayerwiseRecovery", "layerwise_recovery"]


@dataclass
class LayerwiseRecovery:
    """Found vs planted for the layer-wise pipeline, one row per planted item.

    Parameters
    ----------
    table : pandas.DataFrame
        ``item`` (``'best layer'``, ``'lag pair'``, ``'hierarchy'``), ``where``, ``planted``,
        ``found``, ``detail``, ``outcome`` (``'hit'``, ``'near'``, ``'miss'``, ``'not scored'``).
    params : dict
        ``alpha``, the text ``model`` and its swept ``layers``.
    """

    table: pd.DataFrame
    params: dict = field(default_factory=dict)

    @property
    def counts(self) -> dict[str, int]:
        """``hits, misses, false_alarms, n_planted, n_cells`` (as the semantic recovery)."""
        o = self.table.loc[self.table["outcome"] != "not scored", "outcome"]
        hits = int(o.isin(["hit", "near"]).sum())
        return {"hits": hits, "misses": int((o == "miss").sum()), "false_alarms": 0,
                "n_planted": len(o), "n_cells": len(o)}  # fmt: skip

    @property
    def ok(self) -> bool:
        """Every planted item recovered."""
        return self.counts["n_planted"] > 0 and self.counts["misses"] == 0

    def summary(self) -> str:
        """One line: what was found of what was planted.

        Returns
        -------
        line : str
            For example ``'recovery (layer-wise): 3 of 3 planted best layers, ... found'``.
        """
        t = self.table
        parts = []
        for what, label in (
            ("best layer", "planted best layers"),
            ("lag pair", "planted lag pairs"),
            ("hierarchy", "hierarchy"),
        ):
            s = t[(t["item"] == what) & (t["outcome"] != "not scored")]
            if len(s):
                n = int(s["outcome"].isin(["hit", "near"]).sum())
                parts.append(f"{n} of {len(s)} {label}")
        verdict = "all recovered" if self.ok else "NOT all recovered"
        return f"recovery (layer-wise): {', '.join(parts)} found: {verdict}"

    def to_data_frame(self) -> pd.DataFrame:
        """The found-vs-planted table.

        Returns
        -------
        table : pandas.DataFrame
            A copy of :attr:`table`.
        """
        return self.table.copy()


_ROLE = {"listener": ["comprehension"], "speaker": ["production"],
         "both": ["production", "comprehension"]}  # fmt: skip


def _layer_rows(eff, best, text, layers) -> list[dict]:
    rows = []
    h = eff[eff["effect"] == "layer_response"]
    if not len(h):
        return rows
    h = h[~h["null"].astype(bool)] if "null" in h else h
    for (roi, layer, role), _ in h.groupby(["roi", "layer", "role"], sort=False):
        for r in _ROLE.get(str(role), []):
            b = best[(best["model"] == text) & (best["roi"] == roi) & (best["role"] == r)]
            if not len(b):
                continue
            b = b.iloc[0]
            found = str(b["best_layer"]).split(":")[-1]
            pos = {nm: i for i, nm in enumerate(layers)}
            dist = abs(pos.get(found, -99) - pos.get(str(layer), 99))
            outcome = "hit" if found == layer else ("near" if dist == 1 else "miss")
            ci = f"{layers[int(b['ci_low'])]} to {layers[int(b['ci_high'])]}"
            rows.append({"item": "best layer", "where": f"{roi} ({r})", "planted": str(layer),
                         "found": found, "detail": f"95% CI {ci}; r = {b['score']:.3f}",
                         "outcome": outcome})  # fmt: skip
    return rows


def _coupling_rows(eff, coupling, alpha) -> list[dict]:
    rows = []
    c = eff[eff["effect"] == "model_coupling"]
    if not len(c) or coupling is None:
        return rows
    c = c[~c["null"].astype(bool)] if "null" in c else c
    g = coupling["groups"].get(("raw", "s2l"))
    if g is None:
        return rows
    for (pair, ls, ll), _ in c.groupby(["roi", "speaker_lag_s", "listener_lag_s"], sort=False):
        rs, _, rl = str(pair).partition("->")
        m = g["mean"].sel(roi_speaker=rs, roi_listener=rl)
        lgs, lgl = m["speaker_lag"].values, m["listener_lag"].values
        i, j = np.unravel_index(int(np.nanargmax(m.values)), m.shape)
        step_s = float(np.min(np.diff(lgs))) if lgs.size > 1 else np.inf
        step_l = float(np.min(np.diff(lgl))) if lgl.size > 1 else np.inf
        ok = abs(lgs[i] - ls) <= step_s + 1e-9 and abs(lgl[j] - ll) <= step_l + 1e-9
        pv = "p_fwer" if "p_fwer" in g else ("p" if "p" in g else None)
        sig = ""
        if pv is not None:
            a = int(np.argmin(np.abs(lgs - ls)))
            b = int(np.argmin(np.abs(lgl - ll)))
            p = float(g[pv].sel(roi_speaker=rs, roi_listener=rl).values[a, b])
            sig = f"; group {pv} at the planted cell {p:.3g} ({'<' if p < alpha else '>='} " \
                  f"{alpha:g})"  # fmt: skip
        rows.append({"item": "lag pair", "where": f"{rs} -> {rl}",
                     "planted": f"speaker {ls:+.3f} s, listener {ll:+.3f} s",
                     "found": f"speaker {lgs[i]:+.3f} s, listener {lgl[j]:+.3f} s",
                     "detail": f"peak r = {float(m.values[i, j]):.3f}{sig}",
                     "outcome": "hit" if ok else "miss"})  # fmt: skip
    return rows


def _hierarchy_row(eff, res, alpha) -> list[dict]:
    h = eff[eff["effect"] == "layer_response"]
    ht = res.tables.get("hierarchy_test")
    if not len(h) or ht is None or not len(ht):
        return []
    planted = h.drop_duplicates("roi").sort_values("layer_index")
    if planted["layer_index"].nunique() < 2:
        return []
    order = " -> ".join(planted["roi"])
    row = ht.iloc[0]
    if str(row["order"]) != order:
        return [{"item": "hierarchy", "where": str(row["order"]), "planted": order,
                 "found": f"p = {row['p_value']:.3g}",
                 "detail": "the configured order is not the planted one: not scored",
                 "outcome": "not scored"}]  # fmt: skip
    p = float(row["p_value"])
    k, n = len(planted), int(row["n_dyads"])
    if (1.0 / math.factorial(k)) ** n >= alpha:  # even a perfect order in every dyad
        return [{"item": "hierarchy", "where": order, "planted": "preferred depth increases",
                 "found": f"p = {p:.3g}", "detail": f"untestable: {k} ROIs x {n} dyads cannot "
                 f"reach p < {alpha:g} (smallest possible p {(1 / math.factorial(k)) ** n:.3g})",
                 "outcome": "not scored"}]  # fmt: skip
    return [{"item": "hierarchy", "where": order, "planted": "preferred depth increases",
             "found": f"statistic {row['statistic']:.2f}, p = {p:.3g}",
             "detail": f"{int(row['n_permutations'])} ROI-label permutations",
             "outcome": "hit" if p < alpha else "miss"}]  # fmt: skip


def layerwise_recovery(result, *, alpha: float = 0.05) -> LayerwiseRecovery | None:
    """Compare a layer-wise pipeline run on simulated data with what was planted.

    Parameters
    ----------
    result : LayerwiseResult
        A run of :func:`hyperalign.pipeline.layerwise.run_layerwise_pipeline` (its
        ``planted_effects``, ``best_layer`` and ``hierarchy_test`` tables and coupling stats).
    alpha : float
        Significance level of the hierarchy test and the coupling test.

    Returns
    -------
    recovery : LayerwiseRecovery | None
        ``None`` when nothing layer-wise was planted.
    """
    eff = result.tables.get("planted_effects")
    best = result.tables.get("best_layer")
    if eff is None or best is None or "effect" not in eff:
        return None
    cfg = result.config
    text = str(cfg["features"]["text_model"]["name"])
    scores = result.tables["sweep_scores"]
    layers = list(dict.fromkeys(scores.loc[scores["model"] == text, "layer_name"]))
    coupling = (result.stats or {}).get("coupling")
    rows = (_layer_rows(eff, best, text, layers) + _coupling_rows(eff, coupling, alpha)
            + _hierarchy_row(eff, result, alpha))  # fmt: skip
    rows = [r for r in rows if r["outcome"] != "not scored"] + [
        r for r in rows if r["outcome"] == "not scored"]  # fmt: skip
    if not rows:
        return None
    table = pd.DataFrame(rows, columns=["item", "where", "planted", "found", "detail",
                                        "outcome"])  # fmt: skip
    return LayerwiseRecovery(table, {"alpha": alpha, "model": text, "layers": layers})
