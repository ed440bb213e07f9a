"""Figures of the layer-wise encoding report (one function per figure, PNG files).

- :func:`plot_role_lag_curves` - production vs comprehension lag curves per ROI (the text
  model's best layer of each role);
- :func:`plot_layer_lag_maps` - the layer x lag map of every ROI (one row per role);
- :func:`plot_hierarchy_map` - the layer x ROI map (profiles normalised by their maximum)
  with the best layer and its bootstrap CI over dyads;
- :func:`~hyperalign.encoding.hierarchy.plot_layer_profiles` - text vs speech model per ROI
  (reused);
- :func:`plot_controls` - the models next to the controls and the own-past baseline;
- :func:`~hyperalign.encoding.plot_b2b_map` - the group lag-by-lag coupling maps (raw,
  residual, direct) with significance contours (reused).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

__all__ = [
    "make_layerwise_figures",
    "plot_role_lag_curves",
    "plot_layer_lag_maps",
    "plot_hierarchy_map",
    "plot_controls",
    "plot_coupling_maps",
]

_DPI = 96


def _text(cfg) -> str:
    return str(cfg["features"]["text_model"]["name"])


def plot_role_lag_curves(curves: pd.DataFrame, model: str):
    """Production vs comprehension: the dyad-mean lag curve of each ROI's best layer.

    Parameters
    ----------
    curves : pandas.DataFrame
        ``role, model, layer_name, roi, lag, r`` (the pipeline's ``lag_curves`` table).
    model : str
        The model whose layers are shown.

    Returns
    -------
    fig : matplotlib.figure.Figure
        The figure.
    """
    import matplotlib.pyplot as plt

    c = curves[curves["model"] == model]
    rois = list(dict.fromkeys(c["roi"]))
    fig, axes = plt.subplots(1, len(rois), figsize=(2.3 * len(rois) + 0.6, 2.6), sharey=True,
                             squeeze=False, layout="constrained")  # fmt: skip
    styles = {"comprehension": ("C0", "-"), "production": ("C3", "--")}
    for ax, roi in zip(axes[0], rois):
        for role, g in c[c["roi"] == roi].groupby("role"):
            peak = g.groupby("layer_name")["r"].max()
            best = peak.idxmax()
            s = g[g["layer_name"] == best].sort_values("lag")
            col, ls = styles.get(str(role), ("k", ":"))
            ax.plot(s["lag"], s["r"], ls, color=col, lw=1.4, label=f"{role} ({best})")
        ax.axvline(0, color="k", lw=0.5)
        ax.axhline(0, color="k", lw=0.5)
        ax.set_title(str(roi), fontsize=10)
        ax.set_xlabel("lag from word onset (s)", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.legend(fontsize=6, frameon=False, loc="upper left")
    axes[0][0].set_ylabel("out-of-fold r", fontsize=8)
    return fig


def plot_layer_lag_maps(curves: pd.DataFrame, model: str):
    """The layer x lag map of every ROI (rows: roles; colour: dyad-mean r).

    Parameters
    ----------
    curves : pandas.DataFrame
        The pipeline's ``lag_curves`` table.
    model : str
        The model whose layers are shown.

    Returns
    -------
    fig : matplotlib.figure.Figure
        The figure.
    """
    import matplotlib.pyplot as plt

    c = curves[curves["model"] == model]
    rois = list(dict.fromkeys(c["roi"]))
    roles = list(dict.fromkeys(c["role"]))
    layers = list(dict.fromkeys(c["layer_name"]))
    lags = np.sort(c["lag"].unique())
    lim = float(np.nanmax(np.abs(c["r"]))) or 1.0
    fig, axes = plt.subplots(len(roles), len(rois), figsize=(2.1 * len(rois) + 0.9,
                             1.9 * len(roles) + 0.5), sharex=True, sharey=True, squeeze=False,
                             layout="constrained")  # fmt: skip
    h = 0.5 * float(np.diff(lags).mean()) if lags.size > 1 else 0.5
    im = None
    for i, role in enumerate(roles):
        for j, roi in enumerate(rois):
            g = c[(c["role"] == role) & (c["roi"] == roi)]
            m = g.pivot_table(index="layer_name", columns="lag", values="r").reindex(
                index=layers, columns=lags)  # fmt: skip
            ax = axes[i][j]
            im = ax.imshow(m.values, origin="lower", aspect="auto", cmap="RdBu_r", vmin=-lim,
                           vmax=lim, extent=[lags[0] - h, lags[-1] + h, -0.5,
                                             len(layers) - 0.5])  # fmt: skip
            ax.axvline(0, color="k", lw=0.5)
            if i == 0:
                ax.set_title(str(roi), fontsize=10)
            if j == 0:
                ax.set_ylabel(f"{role}\nlayer", fontsize=8)
                ax.set_yticks(range(len(layers)))
                ax.set_yticklabels([_short(nm) for nm in layers], fontsize=6)
            if i == len(roles) - 1:
                ax.set_xlabel("lag (s)", fontsize=8)
            ax.tick_params(labelsize=7)
    fig.colorbar(im, ax=axes, shrink=0.8, label="r")
    return fig


def _short(name: str) -> str:
    return "emb" if name == "embeddings" else str(name).replace("layer_", "L").replace(
        "encoder_", "E")  # fmt: skip


def plot_hierarchy_map(profile: pd.DataFrame, best: pd.DataFrame, *, order=None, title=None):
    """Layer x ROI map of normalised layer profiles with each ROI's best layer and CI.

    Parameters
    ----------
    profile : pandas.DataFrame
        ``roi, layer, score_norm`` (:func:`hyperalign.encoding.layer_profile`).
    best : pandas.DataFrame
        ``roi, layer_index, ci_low, ci_high`` for the same model and role
        (:func:`hyperalign.encoding.best_layer`).
    order : list of str | None
        ROI order (bottom to top; default: the hierarchy order, then the rest).
    title : str | None
        Axes title (e.g. the model and the role).

    Returns
    -------
    fig : matplotlib.figure.Figure
        The figure.
    """
    import matplotlib.pyplot as plt

    rois = list(dict.fromkeys(profile["roi"]))
    if order:
        rois = [r for r in order if r in rois] + [r for r in rois if r not in order]
    layers = list(dict.fromkeys(profile["layer"]))
    m = profile.pivot_table(index="roi", columns="layer", values="score_norm").reindex(
        index=rois, columns=layers)  # fmt: skip
    fig, ax = plt.subplots(figsize=(max(4.5, 0.45 * len(layers) + 2.2), 0.45 * len(rois) + 1.4),
                           layout="constrained")  # fmt: skip
    im = ax.imshow(m.values, aspect="auto", cmap="viridis", vmin=0, vmax=1, origin="lower")
    b = best.set_index("roi")
    for i, roi in enumerate(rois):
        if roi not in b.index:
            continue
        r = b.loc[roi]
        lo, hi, k = int(r["ci_low"]), int(r["ci_high"]), int(r["layer_index"])
        ax.plot([lo, hi], [i, i], color="w", lw=2.2, solid_capstyle="butt")
        ax.plot([k], [i], "o", color="w", mec="k", ms=7)
    ax.set_xticks(range(len(layers)))
    ax.set_xticklabels([_short(str(nm).split(":")[-1]) for nm in layers], fontsize=7)
    ax.set_yticks(range(len(rois)))
    ax.set_yticklabels(rois, fontsize=8)
    ax.set_xlabel("layer (relative score; dot: best layer, bar: 95% CI over dyads)", fontsize=8)
    fig.colorbar(im, ax=ax, shrink=0.9, label="score / ROI max")
    if title:
        ax.set_title(title, fontsize=9)
    return fig


def plot_controls(comparison: pd.DataFrame, role: str):
    """Every model's best score per ROI next to the controls and the own-past baseline.

    Parameters
    ----------
    comparison : pandas.DataFrame
        ``role, roi, model, modality, score, score_sd`` (the ``model_comparison`` table).
    role : str
        The role shown.

    Returns
    -------
    fig : matplotlib.figure.Figure
        The figure.
    """
    import matplotlib.pyplot as plt

    c = comparison[comparison["role"] == role]
    rois = list(dict.fromkeys(c["roi"]))
    models = list(dict.fromkeys(c["model"]))
    w = 0.8 / max(len(models), 1)
    fig, ax = plt.subplots(figsize=(max(5.5, 1.3 * len(rois) + 2.5), 2.8), layout="constrained")
    x = np.arange(len(rois))
    for k, mname in enumerate(models):
        g = c[c["model"] == mname].set_index("roi").reindex(rois)
        mod = str(g["modality"].dropna().iloc[0]) if g["modality"].notna().any() else ""
        hatch = {"control": "//", "baseline": ".."}.get(mod, None)
        ax.bar(x + (k - (len(models) - 1) / 2) * w, g["score"], w, yerr=g["score_sd"],
               label=f"{mname} ({mod})", color=f"C{k}", hatch=hatch, edgecolor="k", lw=0.3,
               error_kw={"lw": 0.6})  # fmt: skip
    ax.axhline(0, color="k", lw=0.5)
    ax.set_xticks(x)
    ax.set_xticklabels(rois, fontsize=8)
    ax.set_ylabel(f"best r ({role})", fontsize=8)
    ax.legend(fontsize=6, ncol=2, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return fig


def plot_coupling_maps(groups: dict, *, direction: str = "s2l", roi_pair=None, planted=None,
                       alpha_level: float = 0.05):  # fmt: skip
    """Group lag-by-lag coupling maps: raw, residual and direct side by side.

    Parameters
    ----------
    groups : dict
        ``(map_type, direction) -> group Dataset`` (:func:`hyperalign.encoding.b2b_group_test`).
    direction : str
        ``'s2l'``, ``'l2s'`` or ``'sym'``.
    roi_pair : (str, str) | None
        One speaker and listener ROI (default: the mean over ROI pairs).
    planted : (float, float) | None
        A planted (speaker lag, listener lag), marked with a cross.
    alpha_level : float
        Contour level of the family-wise p-values.

    Returns
    -------
    fig : matplotlib.figure.Figure
        The figure.
    """
    import matplotlib.pyplot as plt

    from ..encoding import plot_b2b_map

    types = [k for k in ("raw", "residual", "direct") if (k, direction) in groups]
    fig, axes = plt.subplots(1, len(types), figsize=(3.3 * len(types), 3.0), squeeze=False,
                             layout="constrained")  # fmt: skip
    rs, rl = roi_pair if roi_pair is not None else (None, None)
    for ax, map_type in zip(axes[0], types):
        plot_b2b_map(groups[(map_type, direction)], roi_speaker=rs, roi_listener=rl,
                     alpha_level=alpha_level, axes=[ax])  # fmt: skip
        ax.set_title(f"{map_type} ({direction.replace('s2l', 'speaker -> listener')})", fontsize=9)
        if planted is not None:
            ax.plot([planted[1]], [planted[0]], "x", color="k", ms=9, mew=2)
    return fig


def _save(fig, path: Path) -> Path:
    import matplotlib.pyplot as plt

    from ..utils import atomic_path

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp, final = atomic_path(path)
    try:
        fig.savefig(tmp, dpi=_DPI, format="png")
        tmp.replace(final)
    finally:
        tmp.unlink(missing_ok=True)
        plt.close(fig)
    return final


def make_layerwise_figures(result, folder) -> dict[str, Path]:
    """Draw every figure of a layer-wise run into ``folder``: name -> PNG path.

    Parameters
    ----------
    result : LayerwiseResult
        The run (tables and statistics).
    folder : path-like
        Where the PNG files go.

    Returns
    -------
    figures : dict of str to pathlib.Path
        Figure name -> PNG file.
    """
    import matplotlib

    from ..encoding import layer_profile
    from ..encoding.hierarchy import plot_layer_profiles
    from .layerwise_data import TableSweep

    matplotlib.use("Agg", force=False)
    folder = Path(folder)
    cfg, t = result.config, result.tables
    text = _text(cfg)
    role = cfg["hierarchy"]["role"]
    lr = tuple(cfg["hierarchy"]["lag_range"]) if cfg["hierarchy"].get("lag_range") else None
    figs = {}
    curves = t["lag_curves"]
    figs["role_lag_curves"] = _save(plot_role_lag_curves(curves, text), folder /
                                    "role_lag_curves.png")  # fmt: skip
    figs["layer_lag_maps"] = _save(plot_layer_lag_maps(curves, text), folder /
                                   "layer_lag_maps.png")  # fmt: skip
    sweep = TableSweep(t["sweep_scores"])
    prof = layer_profile(sweep, role=role, model=text, lag_range=lr)
    best = t["best_layer"]
    best = best[(best["model"] == text) & (best["role"] == role)]
    fig = plot_hierarchy_map(prof, best, order=cfg["hierarchy"]["order"],
                             title=f"{text} layers, {role}")  # fmt: skip
    figs["hierarchy_map"] = _save(fig, folder / "hierarchy_map.png")
    fig = plot_layer_profiles(sweep, role=role, lag_range=lr)
    for ax in fig.axes:
        ax.title.set_fontsize(9)
        leg = ax.get_legend()
        if leg is not None:
            for tx in leg.get_texts():
                tx.set_fontsize(6)
    figs["model_profiles"] = _save(fig, folder / "model_profiles.png")
    figs["controls"] = _save(plot_controls(t["model_comparison"], role), folder / "controls.png")
    coupling = (result.stats or {}).get("coupling")
    if coupling is not None:
        planted, pair = _planted_pair(t.get("planted_effects"))
        figs["coupling_maps"] = _save(
            plot_coupling_maps(coupling["groups"], roi_pair=pair, planted=planted),
            folder / "coupling_maps.png",
        )
    return figs


def _planted_pair(eff):
    """The first planted model coupling: ((speaker lag, listener lag), (roi_s, roi_l))."""
    if eff is None or "effect" not in eff:
        return None, None
    c = eff[eff["effect"] == "model_coupling"]
    if not len(c):
        return None, None
    r = c.iloc[0]
    rs, _, rl = str(r["roi"]).partition("->")
    return (float(r["speaker_lag_s"]), float(r["listener_lag_s"])), (rs, rl)
