"""Recovery against the truth: what a simulated study found, cell by cell, against what was
planted (hits, misses, false alarms, estimated effect against the planted size)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..utils import _validate_type, fill_doc

__all__ = ["RecoveryResult", "compute_recovery"]

OUTCOMES = ("hit", "miss", "false alarm", "correct rejection")
#: sin(pi x) / (pi x) = 1/2 at this x: a flat band of width B keeps at least half its lagged
#: coherence within 0.603 / B seconds of the true lag
_HALF_MAX_SINC = 0.6034


@dataclass
class RecoveryResult:
    """Found vs planted, one row per band x ROI pair x lag cell (``table``).

    Parameters
    ----------
    table : DataFrame
        ``band, roi, lag, planted, n_dyads_planted, planted_size, found, outcome, beta_sem,
        ci_low, ci_high, p`` (+ ``beta_std`` when the analysis table was given).
    effect : str
        The planted effect compared (e.g. ``'semantic_coupling'``).
    truth : dict
        What was planted: ``band`` (fmin, fmax), ``channels``, ``lag_range`` (s), ``size``.
    params : dict
        ``alpha``, ``p_column``, ``lag_tolerance``.
    """

    table: pd.DataFrame
    effect: str
    truth: dict = field(default_factory=dict)
    params: dict = field(default_factory=dict)

    @property
    def counts(self) -> dict[str, int]:
        """``hits, misses, false_alarms, correct_rejections, n_planted, n_cells``."""
        o = self.table["outcome"].value_counts()
        return {
            "hits": int(o.get("hit", 0)),
            "misses": int(o.get("miss", 0)),
            "false_alarms": int(o.get("false alarm", 0)),
            "correct_rejections": int(o.get("correct rejection", 0)),
            "n_planted": int(self.table["planted"].sum()),
            "n_cells": len(self.table),
        }

    @property
    def ok(self) -> bool:
        """No false alarm and at least one hit."""
        c = self.counts
        return c["false_alarms"] == 0 and c["hits"] > 0

    def summary(self) -> str:
        """One line: hits, misses and false alarms against the planted truth.

        Returns
        -------
        text : str
            The summary line.
        """
        c = self.counts
        t = self.truth
        band = t.get("band")
        where = []
        if band is not None and np.all(np.isfinite(band)):
            where.append(f"{band[0]:g}-{band[1]:g} Hz")
        if t.get("rois"):
            where.append("/".join(t["rois"]))
        lr = t.get("lag_range")
        if lr is not None:
            where.append(f"lag {lr[0]:.2f}-{lr[1]:.2f} s")
        n_other = c["n_cells"] - c["n_planted"]
        return (
            f"recovery vs planted {self.effect} ({', '.join(where)}): "
            f"{c['hits']} hit(s), {c['misses']} miss(es) of {c['n_planted']} planted cell(s); "
            f"{c['false_alarms']} false alarm(s) in {n_other} cell(s) with nothing planted"
        )

    def to_data_frame(self) -> pd.DataFrame:
        """The per-cell table (a copy).

        Returns
        -------
        df : pandas.DataFrame
            One row per band x ROI pair x lag cell.
        """
        return self.table.copy()


def _planted_rois(rois: Mapping, roi_cells: Sequence[str], channels: set) -> dict[str, float]:
    """Fraction of planted channels in each cell's ROI pair (both ends must hold some)."""
    frac = {k: len(channels & set(v)) / max(len(v), 1) for k, v in rois.items()}
    out = {}
    for cell in roi_cells:
        ends = [(a, b) for a in rois for b in rois if f"{a}-{b}" == cell]
        if not ends and cell in rois:
            ends = [(cell, cell)]
        out[cell] = min(frac[ends[0][0]], frac[ends[0][1]]) if ends else np.nan
    return out


@fill_doc
def compute_recovery(
    results: pd.DataFrame,
    planted: pd.DataFrame,
    *,
    bands: Mapping[str, Sequence[float]],
    rois: Mapping[str, Sequence[str]] | None = None,
    effect: str = "semantic_coupling",
    alpha: float = 0.05,
    p_column: str | None = None,
    lag_tolerance: float | None = None,
    analysis: pd.DataFrame | None = None,
    sync: str = "sync_z",
    semantic: str = "sem_align",
) -> RecoveryResult:
    """Compare the cells a test found with the cells where an effect was planted.

    A cell (band x ROI pair x lag) is *planted* when its band's nominal range overlaps the
    planted band (by more than 0 Hz), both ROIs of the pair hold at least one planted channel,
    and its lag lies within ``lag_tolerance`` of the range of planted lags over dyads. A cell is
    *found* when its p-value is below ``alpha``. Hits are planted and found, misses planted and
    not found, false alarms found where nothing was planted.

    Parameters
    ----------
    results : DataFrame
        One row per cell: ``band, roi, lag`` and the p-value column (e.g. the
        ``semantic_beyond_acoustics`` table), ``beta_sem, ci_low, ci_high`` when present.
    planted : DataFrame
        The simulation's effects table (``StudyTruth.effects``): ``dyad, effect, size, fmin,
        fmax, channels, lag_s``.
    bands : dict
        The cells' bands, ``{name: (fmin, fmax)}`` in Hz.
    rois : dict | None
        ``{name: [channels]}`` of the ROI names in ``results['roi']`` (``'a-b'`` pairs);
        ``None`` treats every ROI as planted.
    effect : str
        Which planted effect to compare (a value of ``planted['effect']``).
    alpha : float
        Significance level.
    p_column : str | None
        P-value column (default ``p_corrected`` when present, else ``p_lrt``).
    lag_tolerance : float | None
        Seconds around the planted lags within which a cell's lag counts as planted. The
        default is the larger of half the lag grid's step and the lag resolution of the
        planted band: a band-limited component of bandwidth ``B`` delayed by ``tau`` keeps at
        least half its coupling at lags within ``0.603 / B`` s of ``tau`` (the half maximum
        of its autocorrelation envelope ``|sinc(B * (lag - tau))|``; 0.15 s for 4-8 Hz), so
        synchrony cannot place it more finely.
    analysis : DataFrame | None
        The utterance-level table the models were fitted on: adds ``beta_std``, the estimate in
        standard deviations of ``sync`` per standard deviation of ``semantic``.
    sync, semantic : str
        Columns of ``analysis`` for ``beta_std``.

    Returns
    -------
    recovery : RecoveryResult
        The per-cell outcomes (hit, miss, false alarm, correct rejection) and their counts.

    See Also
    --------
    hyperalign.simulation.simulate_study
    """
    _validate_type(results, pd.DataFrame, "results")
    _validate_type(planted, pd.DataFrame, "planted")
    missing = [c for c in ("band", "roi", "lag") if c not in results]
    if missing:
        raise KeyError(
            f"results lacks the cell column(s) {missing}; it needs band, roi and lag (got "
            f"{list(results.columns)})"
        )
    if p_column is None:
        p_column = "p_corrected" if "p_corrected" in results else "p_lrt"
    if p_column not in results:
        raise KeyError(f"p_column={p_column!r} is not a column of results; pass p_column=")
    eff = planted[planted["effect"] == effect]
    if eff.empty:
        raise ValueError(
            f"effect={effect!r} is not in the planted effects; available: "
            f"{sorted(planted['effect'].unique())}"
        )
    unknown = sorted(set(results["band"]) - set(bands))
    if unknown:
        raise ValueError(f"bands lacks the result band(s) {unknown}; give {{name: (fmin, fmax)}}")
    pb = (float(eff["fmin"].iloc[0]), float(eff["fmax"].iloc[0]))
    chans: set = set()
    for c in eff["channels"]:
        chans |= set(c if not isinstance(c, str) else c.strip("[]").replace("'", "").split(", "))
    lags_s = eff["lag_s"].astype(float).to_numpy()
    grid = np.sort(results["lag"].astype(float).unique())
    if lag_tolerance is None:  # half the grid step, or the band's lag resolution if coarser
        half_step = float(np.diff(grid).min()) / 2 if grid.size > 1 else 0.0
        lag_tolerance = max(half_step, _HALF_MAX_SINC / (pb[1] - pb[0]))
    lag_lo, lag_hi = float(lags_s.min()), float(lags_s.max())

    t = results.reset_index(drop=True)
    roi_frac = (
        _planted_rois(rois, t["roi"].unique(), chans)
        if rois
        else dict.fromkeys(t["roi"].unique(), 1.0)
    )
    band_ok = {
        b: (min(pb[1], float(hi)) - max(pb[0], float(lo))) > 0 for b, (lo, hi) in bands.items()
    }
    lag = t["lag"].astype(float).to_numpy()
    lag_ok = (lag >= lag_lo - lag_tolerance) & (lag <= lag_hi + lag_tolerance)
    n_dyads_at = [
        int((np.abs(lags_s - v) <= lag_tolerance).sum()) if ok else 0 for v, ok in zip(lag, lag_ok)
    ]
    planted_mask = (
        t["band"].map(band_ok).to_numpy(bool)
        & (t["roi"].map(roi_frac).fillna(0).to_numpy() > 0)
        & lag_ok
    )
    p = t[p_column].to_numpy(float)
    found = np.nan_to_num(p, nan=1.0) < alpha
    outcome = np.select(
        [planted_mask & found, planted_mask & ~found, ~planted_mask & found],
        ["hit", "miss", "false alarm"],
        "correct rejection",
    )
    size = float(eff["size"].mean())
    out = pd.DataFrame(
        {
            "band": t["band"],
            "roi": t["roi"],
            "lag": lag,
            "planted": planted_mask,
            "planted_roi_fraction": t["roi"].map(roi_frac).to_numpy(float),
            "n_dyads_planted": np.where(planted_mask, n_dyads_at, 0),
            "planted_size": np.where(planted_mask, size, 0.0),
            "found": found,
            "outcome": outcome,
        }
    )
    for c in ("beta_sem", "ci_low", "ci_high"):
        if c in t:
            out[c] = t[c].to_numpy()
    out["p"] = p
    if analysis is not None and {sync, semantic} <= set(analysis.columns) and "beta_sem" in t:
        sd = analysis.groupby(["band", "roi", "lag"])[[sync, semantic]].std()
        key = pd.MultiIndex.from_arrays([t["band"], t["roi"], t["lag"]])
        ratio = (sd[semantic] / sd[sync]).reindex(key).to_numpy()
        out["beta_std"] = t["beta_sem"].to_numpy() * ratio
    truth = {
        "band": pb,
        "channels": sorted(chans),
        "rois": sorted(k for k, v in (rois or {}).items() if chans & set(v)),
        "lag_range": (lag_lo, lag_hi),
        "size": size,
        "n_dyads": int(eff["dyad"].nunique()) if "dyad" in eff else len(eff),
    }
    return RecoveryResult(
        out,
        effect,
        truth,
        {"alpha": alpha, "p_column": p_column, "lag_tolerance": lag_tolerance},
    )


def pipeline_recovery(result, rois: Mapping | None) -> RecoveryResult | None:
    """:func:`compute_recovery` of a pipeline run on simulated data (``None`` without truth)."""
    t = result.tables
    planted, res = t.get("planted_effects"), t.get("semantic_beyond_acoustics")
    if (
        planted is None
        or res is None
        or not len(res)
        or "semantic_coupling" not in set(planted["effect"])
    ):
        return None
    cfg = result.config
    return compute_recovery(
        res,
        planted,
        bands=cfg["coupling"]["bands"],
        rois=rois,
        alpha=cfg["stats"].get("alpha", 0.05),
        analysis=t.get("analysis"),
        sync=cfg["stats"].get("sync", "sync_z"),
        semantic=cfg["stats"]["semantic"][0],
    )
