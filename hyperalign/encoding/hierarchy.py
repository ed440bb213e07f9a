"""Summaries of a layer sweep, with uncertainty over dyads: best layers and the hierarchy.

All summaries start from **layer profiles**: for every dyad, ROI and layer, the encoding score
of the ROI (the mean ``r`` of its channels, or the ROI target itself when the sweep was fitted
on ROIs) at its best lag within ``lag_range`` (``reduce='max'``) or averaged over it
(``reduce='mean'``), averaged over the dyad's participants for one role. Dyads are the
independent units: bootstrap CIs resample dyads, and the hierarchy null permutes ROI labels
within each dyad.

- :func:`layer_profiles` - the profiles (``dyad x roi x layer``) and the peak lags.
- :func:`best_layer` - the best layer per ROI and role (argmax of the dyad-mean profile) with
  a percentile bootstrap CI over dyads (on the layer index and the relative depth).
- :func:`layer_profile` - the dyad-mean profile per ROI normalised by its maximum.
- :func:`depth_lag_correlation` - Spearman correlation between layer depth and peak lag per
  ROI, with a bootstrap CI over dyads.
- :func:`hierarchy_test` - does the preferred layer increase along a user-given ROI ordering
  (for example temporal -> parietal -> frontal)? Statistic: the mean over dyads of the
  Spearman correlation between the ROI's position in the ordering and the depth of its
  preferred layer (argmax of the dyad's profile); null: ROI labels permuted within each dyad
  (under the null of no ordering the ROIs of one dyad are exchangeable); one-sided p-value
  ``(1 + #{null >= observed}) / (1 + n_permutations)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import xarray as xr

from ..utils import check_option, check_random_state, fill_doc
from ._solver_checks import check_rois

__all__ = [
    "layer_profiles",
    "best_layer",
    "layer_profile",
    "depth_lag_correlation",
    "hierarchy_test",
    "HierarchyTest",
    "plot_layer_profiles",
]


def _check_rois(rois: dict | None, available: list[str]) -> dict:
    if rois is None:
        return {t: [t] for t in available}
    if not isinstance(rois, dict) or not rois:
        raise ValueError(f"rois must be a non-empty dict {{name: [channels]}}; got {rois!r}")
    more = "..." if len(available) > 12 else ""
    return check_rois(rois, available, what="targets that were not fitted:",
                      fix=f"the targets are {available[:12]}{more}")  # fmt: skip


def _select_model(da: xr.DataArray, model: str | None) -> xr.DataArray:
    if "model" not in da.coords:
        return da
    models = list(dict.fromkeys(str(m) for m in da["model"].values))
    if model is None:
        return da
    if model not in models:
        raise ValueError(f"model must be one of {models}; got {model!r}")
    return da.isel(layer=np.flatnonzero(da["model"].values == model))


def _roi_scores(sweep, metric: str, role: str, rois: dict | None) -> xr.DataArray:
    """Scores of one role, participants averaged, targets averaged into ROIs: dims
    ``(dyad, roi, layer, lag)`` (the start of every summary here)."""
    da = sweep.scores(metric)
    check_option("role", role, [str(r) for r in da["role"].values])
    da = da.sel(role=role).mean("participant")
    rr = _check_rois(rois, [str(t) for t in da["target"].values])
    da = xr.concat([da.sel(target=v).mean("target") for v in rr.values()], dim="roi")
    return da.assign_coords(roi=list(rr))


def _in_lags(da: xr.DataArray, lag_range) -> xr.DataArray:
    """The lags within ``lag_range`` (all for ``None``; an error when none is left)."""
    if lag_range is None:
        return da
    lo, hi = lag_range
    da = da.sel(lag=(da["lag"] >= lo) & (da["lag"] <= hi))
    if da.sizes["lag"] == 0:
        raise ValueError(
            f"lag_range {tuple(lag_range)} holds no lag of the sweep; give a range that "
            "overlaps the lag grid"
        )
    return da


def _boot_summary(obs_fn, vals: np.ndarray, n_boot: int, ci: float, rng):
    """``obs_fn`` of the dyad-mean and of ``n_boot`` dyad resamples, with percentiles.

    ``vals`` has dyads first; ``obs_fn`` maps a mean over dyads (``...``) or a stack of them
    (``n_boot, ...``) to the statistic. Returns ``(observed, boot, q)`` with ``q`` the two
    percentiles of the ``ci`` interval.
    """
    idx = rng.integers(0, vals.shape[0], size=(int(n_boot), vals.shape[0]))
    obs = obs_fn(np.nanmean(vals, axis=0))
    boot = obs_fn(np.nanmean(vals[idx], axis=1))
    return obs, boot, [(1 - ci) / 2 * 100, (1 + ci) / 2 * 100]


@fill_doc
def layer_profiles(
    sweep,
    *,
    rois: dict | None = None,
    role: str = "comprehension",
    metric: str = "r",
    lag_range: tuple[float, float] | None = None,
    reduce: str = "max",
    model: str | None = None,
) -> xr.Dataset:
    """Per dyad, ROI and layer: the score (best lag or mean over lags) and the peak lag.

    Parameters
    ----------
    sweep : LayerSweep | xarray.DataArray
        A :class:`~hyperalign.encoding.sweep.LayerSweep`, or scores with dims
        ``(dyad, roi, layer[, lag])`` (already profiles: returned as they are).
    rois : dict of str to list of str | None
        ROI name -> channels (averaged); ``None``: every target is its own ROI.
    role : 'production' | 'comprehension'
        The role summarised.
    metric : str
        Score variable (``'r'``, ``'r2'``, ``'r_norm'``).
    lag_range : (float, float) | None
        Lags (s) considered (``None``: all).
    reduce : 'max' | 'mean'
        Best lag, or the mean over ``lag_range``.
    model : str | None
        Keep only this model's layers (needed for depth summaries when a sweep holds
        several models).

    Returns
    -------
    profiles : xarray.Dataset
        ``score`` and ``peak_lag`` with dims ``(dyad, roi, layer)``; layer coordinates
        ``depth``, ``layer_index``, ``model`` carried over.
    """
    check_option("reduce", reduce, ("max", "mean"))
    if isinstance(sweep, xr.DataArray):
        da = sweep
        if "roi" not in da.dims and "target" in da.dims:
            da = da.rename(target="roi")
        if "lag" not in da.dims:
            da = _select_model(da, model).transpose("dyad", "roi", "layer")
            return xr.Dataset({"score": da})
    else:
        da = _roi_scores(sweep, metric, role, rois)
    da = _in_lags(_select_model(da, model), lag_range)
    score = da.max("lag") if reduce == "max" else da.mean("lag")
    filled = da.fillna(-np.inf)
    peak = da["lag"].values[filled.argmax("lag").values]
    peak = xr.DataArray(peak, dims=score.dims, coords=score.coords)
    return xr.Dataset({"score": score.transpose("dyad", "roi", "layer"),
                       "peak_lag": peak.transpose("dyad", "roi", "layer")})  # fmt: skip


def _depths(score: xr.DataArray) -> np.ndarray:
    if "depth" in score.coords:
        return np.asarray(score["depth"].values, float)
    k = score.sizes["layer"]
    return np.arange(k) / max(k - 1, 1)


@fill_doc
def best_layer(
    sweep,
    *,
    rois: dict | None = None,
    roles: Sequence[str] = ("production", "comprehension"),
    n_boot: int = 1000,
    ci: float = 0.95,
    random_state=0,
    **profile_kw,
) -> pd.DataFrame:
    """Best layer per ROI and role, with a bootstrap CI over dyads.

    Parameters
    ----------
    sweep : LayerSweep
        The sweep.
    rois : dict | None
        ROI name -> channels (see :func:`layer_profiles`).
    roles : list of str
        Roles to summarise.
    n_boot : int
        Bootstrap resamples of dyads.
    ci : float
        Coverage of the percentile interval.
    %(random_state)s
    **profile_kw
        ``metric``, ``lag_range``, ``reduce``, ``model`` (:func:`layer_profiles`).

    Returns
    -------
    table : pandas.DataFrame
        One row per role and ROI: ``best_layer`` (label), ``layer_index``, ``depth``,
        ``score`` (dyad-mean), ``peak_lag``, ``ci_low``/``ci_high`` (layer index),
        ``depth_ci_low``/``depth_ci_high``, ``n_dyads``, ``n_boot``.
    """
    rng = check_random_state(random_state)
    rows = []
    for role in roles:
        prof = layer_profiles(sweep, rois=rois, role=role, **profile_kw)
        s = prof["score"]
        vals = s.values  # (dyad, roi, layer)
        n_d = vals.shape[0]
        depth = _depths(s)
        mean = np.nanmean(vals, axis=0)  # (roi, layer)

        def argbest(m):
            return np.nanargmax(np.nan_to_num(m, nan=-np.inf), axis=-1)

        best, best_b, q = _boot_summary(argbest, vals, n_boot, ci, rng)
        for j, roi in enumerate(s["roi"].values):
            b = int(best[j])
            lo, hi = np.percentile(best_b[:, j], q, method="nearest")
            dlo, dhi = np.percentile(depth[best_b[:, j]], q)
            rows.append({
                "role": role, "roi": str(roi), "best_layer": str(s["layer"].values[b]),
                "layer_index": b, "depth": float(depth[b]), "score": float(mean[j, b]),
                "peak_lag": float(np.nanmedian(prof["peak_lag"].values[:, j, b])),
                "ci_low": int(lo), "ci_high": int(hi), "depth_ci_low": float(dlo),
                "depth_ci_high": float(dhi), "n_dyads": n_d, "n_boot": int(n_boot),
            })  # fmt: skip
    return pd.DataFrame(rows)


def layer_profile(sweep, *, rois=None, role: str = "comprehension", **profile_kw) -> pd.DataFrame:
    """Dyad-mean layer profile per ROI, normalised by its maximum.

    Parameters
    ----------
    sweep : LayerSweep
        The sweep.
    rois : dict | None
        ROI name -> channels.
    role : str
        The role.
    **profile_kw
        ``metric``, ``lag_range``, ``reduce``, ``model`` (:func:`layer_profiles`).

    Returns
    -------
    table : pandas.DataFrame
        Columns ``roi, layer, depth, score, score_norm`` (``score / max over layers``).
    """
    s = layer_profiles(sweep, rois=rois, role=role, **profile_kw)["score"].mean("dyad")
    mx = s.max("layer")
    norm = s / mx.where(mx > 0)
    depth = _depths(s)
    rows = []
    for j, roi in enumerate(s["roi"].values):
        for k, lay in enumerate(s["layer"].values):
            rows.append({"roi": str(roi), "layer": str(lay), "depth": float(depth[k]),
                         "score": float(s.values[j, k]),
                         "score_norm": float(norm.values[j, k])})  # fmt: skip
    return pd.DataFrame(rows)


def _spearman_rows(x: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """Spearman correlation of ``x`` (k,) with every row of ``Y`` (..., k); 0 if constant."""
    from scipy.stats import rankdata

    rx = rankdata(x)
    rx = rx - rx.mean()
    ry = rankdata(Y, axis=-1)
    ry = ry - ry.mean(axis=-1, keepdims=True)
    den = np.sqrt((rx**2).sum() * (ry**2).sum(axis=-1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, (ry * rx).sum(axis=-1) / den, 0.0)


@fill_doc
def depth_lag_correlation(
    sweep, *, rois=None, role: str = "comprehension", n_boot: int = 1000, ci: float = 0.95,
    random_state=0, **profile_kw,
) -> pd.DataFrame:  # fmt: skip
    """Spearman correlation between layer depth and peak lag per ROI, CI over dyads.

    The peak lag of each layer is that of the dyad-mean lag curve (of the ROI).

    Parameters
    ----------
    sweep : LayerSweep
        The sweep.
    rois : dict | None
        ROI name -> channels.
    role : str
        The role.
    n_boot : int
        Bootstrap resamples of dyads.
    ci : float
        Coverage.
    %(random_state)s
    **profile_kw
        ``metric``, ``lag_range``, ``model``.

    Returns
    -------
    table : pandas.DataFrame
        ``roi, rho, ci_low, ci_high, n_layers, n_dyads``.
    """
    metric = profile_kw.pop("metric", "r")
    model = profile_kw.pop("model", None)
    da = _roi_scores(sweep, metric, role, rois)
    da = _in_lags(_select_model(da, model), profile_kw.pop("lag_range", None))
    vals = da.transpose("dyad", "roi", "layer", "lag").values
    lags = da["lag"].values
    depth = _depths(da)

    def rho(m):  # Spearman(depth, peak lag of each layer) per ROI
        return _spearman_rows(depth, lags[np.nanargmax(m, axis=-1)])

    obs, boot, q = _boot_summary(rho, vals, n_boot, ci, check_random_state(random_state))
    rr = [str(r) for r in da["roi"].values]
    rows = []
    for j, roi in enumerate(rr):
        lo, hi = np.percentile(boot[:, j], q)
        rows.append({"roi": roi, "rho": float(obs[j]), "ci_low": float(lo), "ci_high": float(hi),
                     "n_layers": len(depth), "n_dyads": vals.shape[0]})  # fmt: skip
    return pd.DataFrame(rows)


@dataclass
class HierarchyTest:
    """Result of :func:`hierarchy_test`.

    Parameters
    ----------
    order : list of str
        The ROI ordering tested.
    statistic : float
        Mean over dyads of Spearman(position in ``order``, preferred depth).
    p_value : float
        One-sided permutation p-value (ROI labels permuted within dyads).
    null : ndarray, shape (n_permutations,)
        The permutation distribution.
    preferred : pandas.DataFrame
        Per dyad and ROI: the preferred layer (label, index, depth).
    role : str
        The role tested.
    """

    order: list
    statistic: float
    p_value: float
    null: np.ndarray = field(repr=False)
    preferred: pd.DataFrame = field(repr=False)
    role: str = ""

    def to_data_frame(self) -> pd.DataFrame:
        """One row: order, role, statistic, p_value, n_permutations, n_dyads.

        Returns
        -------
        df : pandas.DataFrame
            The test in one row (the ordering joined by ``' -> '``).
        """
        return pd.DataFrame([{
            "order": " -> ".join(self.order), "role": self.role, "statistic": self.statistic,
            "p_value": self.p_value, "n_permutations": len(self.null),
            "n_dyads": self.preferred["dyad"].nunique(),
        }])  # fmt: skip


@fill_doc
def hierarchy_test(
    sweep,
    order: Sequence[str],
    *,
    rois: dict | None = None,
    role: str = "comprehension",
    n_permutations: int = 1000,
    random_state=0,
    **profile_kw,
) -> HierarchyTest:
    """Does the preferred layer increase along an ordering of ROIs? Permutation test.

    Parameters
    ----------
    sweep : LayerSweep | xarray.DataArray
        The sweep, or profiles ``(dyad, roi, layer)`` (see :func:`layer_profiles`).
    order : list of str
        ROI names from the expected shallowest to the deepest preferred layer (for example
        ``['temporal', 'parietal', 'frontal']``); at least 2.
    rois : dict | None
        ROI name -> channels.
    role : str
        The role tested.
    n_permutations : int
        Permutations of the ROI labels within each dyad.
    %(random_state)s
    **profile_kw
        ``metric``, ``lag_range``, ``reduce``, ``model``.

    Returns
    -------
    test : HierarchyTest
        The statistic, its one-sided p-value, the null and each dyad's preferred layers.

    See Also
    --------
    best_layer : The best layer per ROI with a CI over dyads.
    layer_profiles : The profiles the test starts from.

    Examples
    --------
    Profiles of 8 dyads in which temporal prefers layer 1, parietal layer 3 and frontal
    layer 5:

    >>> import numpy as np
    >>> import xarray as xr
    >>> rng = np.random.default_rng(0)
    >>> prof = 0.01 * rng.standard_normal((8, 3, 6))
    >>> prof[:, 0, 1] += 1
    >>> prof[:, 1, 3] += 1
    >>> prof[:, 2, 5] += 1
    >>> da = xr.DataArray(prof, dims=("dyad", "roi", "layer"),
    ...                   coords={"roi": ["temporal", "parietal", "frontal"]})
    >>> res = hierarchy_test(da, ["temporal", "parietal", "frontal"], n_permutations=200)
    >>> float(res.statistic), bool(res.p_value < 0.01)
    (1.0, True)
    """
    order = [order] if isinstance(order, str) else list(order)
    score = layer_profiles(sweep, rois=rois, role=role, **profile_kw)["score"]
    known = [str(r) for r in score["roi"].values]
    unknown = [r for r in order if r not in known]
    if unknown or len(order) < 2 or len(set(order)) != len(order):
        raise ValueError(
            f"order must name at least 2 distinct ROIs among {known}; got {order} "
            f"(unknown: {unknown}); define ROIs with rois={{name: [channels]}}"
        )
    if "model" in score.coords and len(set(map(str, score["model"].values))) > 1:
        raise ValueError(
            "the sweep holds several models; pass model=<name> so that depths are comparable"
        )
    vals = score.sel(roi=order).transpose("dyad", "roi", "layer").values
    depth = _depths(score)
    pref = np.nanargmax(np.nan_to_num(vals, nan=-np.inf), axis=-1)  # (dyad, roi)
    q = depth[pref]
    pos = np.arange(len(order), dtype=float)
    stat = float(np.mean(_spearman_rows(pos, q)))
    rng = check_random_state(random_state)
    perm = np.argsort(rng.random((int(n_permutations), *q.shape)), axis=-1)
    qn = np.take_along_axis(np.broadcast_to(q, perm.shape), perm, axis=-1)
    null = _spearman_rows(pos, qn).mean(axis=-1)
    p = (1 + np.sum(null >= stat - 1e-12)) / (1 + len(null))
    dy = [str(d) for d in score["dyad"].values]
    labels = [str(v) for v in score["layer"].values]
    pref_df = pd.DataFrame([
        {"dyad": dy[i], "roi": r, "layer": labels[pref[i, j]], "layer_index": int(pref[i, j]),
         "depth": float(q[i, j])}
        for i in range(len(dy)) for j, r in enumerate(order)
    ])  # fmt: skip
    return HierarchyTest(order, stat, float(p), null, pref_df, role)


def _self_scores(sweep, rois, role, lag_range, roi_names):
    """Dyad-mean best-lag ``r_self`` per ROI, or None when the sweep has none."""
    ds0 = next(iter(sweep.results.values())).dataset if hasattr(sweep, "results") else None
    if ds0 is None or "r_self" not in ds0.data_vars:
        return None
    da = _in_lags(_roi_scores(sweep, "r_self", role, rois), lag_range)
    return da.max("lag").mean("dyad").values[: len(roi_names)]


def plot_layer_profiles(
    sweep, *, rois=None, role: str = "comprehension", metric: str = "r", lag_range=None,
    ax=None,
):  # fmt: skip
    """Text-model, speech-model and control layers side by side: score vs depth per ROI.

    One panel per ROI; one line per model (x: relative depth 0-1, y: the dyad-mean score at
    the best lag, with the range over dyads shaded); single-space controls are horizontal
    dashed lines; ``r_self`` (when the sweep has it) a dotted line.

    Parameters
    ----------
    sweep : LayerSweep
        The sweep.
    rois : dict | None
        ROI name -> channels.
    role : str
        The role.
    metric : str
        Score variable.
    lag_range : (float, float) | None
        Lags considered.
    ax : list of matplotlib.axes.Axes | None
        One axis per ROI (``None``: a new figure).

    Returns
    -------
    fig : matplotlib.figure.Figure
        One panel per ROI.

    See Also
    --------
    layer_profiles, hyperalign.encoding.sweep_layers
    """
    import matplotlib.pyplot as plt

    prof = layer_profiles(sweep, rois=rois, role=role, metric=metric, lag_range=lag_range)
    s = prof["score"]
    roi_names = [str(r) for r in s["roi"].values]
    if ax is None:
        fig, ax = plt.subplots(1, len(roi_names), figsize=(3.2 * len(roi_names), 3),
                               sharey=True, squeeze=False)  # fmt: skip
        ax = ax[0]
    fig = ax[0].figure
    models = list(dict.fromkeys(str(m) for m in s["model"].values))
    mods = np.asarray(s["modality"].values).astype(str)
    styles = {"text": "-", "speech": "--", "control": ":"}
    self_r = _self_scores(sweep, rois, role, lag_range, roi_names)
    for j, roi in enumerate(roi_names):
        a = ax[j]
        for k, m in enumerate(models):
            sel = np.flatnonzero(s["model"].values == m)
            vals = s.values[:, j, sel]
            mean = np.nanmean(vals, axis=0)
            if sel.size == 1:
                a.axhline(mean[0], ls="--", lw=1, color=f"C{k}", label=f"{m} (control)")
                continue
            d = np.asarray(s["depth"].values[sel], float)
            a.plot(d, mean, styles.get(mods[sel[0]], "-"), color=f"C{k}",
                   label=f"{m} ({mods[sel[0]]})")  # fmt: skip
            a.fill_between(d, np.nanmin(vals, 0), np.nanmax(vals, 0), color=f"C{k}", alpha=0.15)
        if self_r is not None:
            a.axhline(self_r[j], ls=":", lw=1.5, color="k", label="own past (r_self)")
        a.set_title(roi)
        a.set_xlabel("relative layer depth")
    ax[0].set_ylabel(f"{metric} ({role})")
    ax[0].legend(fontsize="small")
    fig.tight_layout()
    return fig
