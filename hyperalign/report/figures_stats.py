"""Figures of the statistics: added-variable (partial regression) plots of synchrony."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd


def partial_residuals(
    table: pd.DataFrame,
    sync: str = "sync",
    semantic: str = "sem_align",
    controls: Sequence[str] = ("acsim",),
    groups: str | None = "dyad",
) -> pd.DataFrame:
    """Residualize ``sync`` and ``semantic`` on the controls and group (dyad) means.

    Returns a DataFrame with ``x_resid``, ``y_resid`` and ``groups``; by the Frisch–Waugh–Lovell
    theorem the OLS slope of ``y_resid`` on ``x_resid`` equals the coefficient of
    ``semantic`` in the OLS model with controls and dyad fixed effects.
    """
    cols = [sync, semantic, *controls] + ([groups] if groups else [])
    missing = [c for c in cols if c not in table]
    if missing:
        raise KeyError(f"columns {missing} not in the table; available: {list(table.columns)}")
    d = table[cols].dropna()
    parts = [np.ones((len(d), 1))] if not groups else []
    if controls:
        parts.append(d[list(controls)].to_numpy(float))
    if groups:
        parts.append(pd.get_dummies(d[groups].astype(str)).to_numpy(float))
    X = np.column_stack(parts)
    Y = d[[sync, semantic]].to_numpy(float)
    beta, *_ = np.linalg.lstsq(X, Y, rcond=None)
    R = Y - X @ beta
    out = pd.DataFrame({"x_resid": R[:, 1], "y_resid": R[:, 0]}, index=d.index)
    if groups:
        out[groups] = d[groups].to_numpy()
    return out


def plot_partial_regression(
    table: pd.DataFrame,
    sync: str = "sync",
    semantic: str = "sem_align",
    acoustic: Sequence[str] = ("acsim",),
    covariates: Sequence[str] = (),
    groups: str | None = "dyad",
    by: str | None = "band",
    *,
    max_points: int = 5000,
    random_state=0,
    axes=None,
    show: bool = False,
):
    """Added-variable plot of synchrony against semantic alignment, acoustics partialled out.

    Parameters
    ----------
    table : DataFrame
        Analysis table (one metric / ROI / lag, or aggregate first).
    sync, semantic : str
    acoustic, covariates : sequence of str
        Partialled out together with the dyad means.
    groups : str | None
    by : str | None
        One panel per value (e.g. ``'band'``).
    max_points : int
        Points drawn per panel (random subset; the fit uses all rows).
    random_state : int
    axes : array of matplotlib Axes | None
    show : bool

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    levels = [None] if by is None else list(pd.unique(table[by]))
    if axes is None:
        fig, axes = plt.subplots(
            1, len(levels), figsize=(3.2 * len(levels), 3.2), squeeze=False, sharey=False
        )
        axes = axes[0]
    else:
        axes = np.atleast_1d(axes)
        fig = axes[0].figure
    if len(axes) != len(levels):
        raise ValueError(f"axes must hold {len(levels)} Axes (one per {by}); got {len(axes)}")
    rng = np.random.default_rng(random_state)
    for ax, lev in zip(axes, levels):
        sub = table if lev is None else table[table[by] == lev]
        pr = partial_residuals(sub, sync, semantic, [*acoustic, *covariates], groups)
        x, y = pr["x_resid"].to_numpy(), pr["y_resid"].to_numpy()
        idx = rng.choice(len(x), min(max_points, len(x)), replace=False)
        ax.scatter(x[idx], y[idx], s=4, alpha=0.3, color="0.4", linewidths=0)
        slope = float(x @ y / (x @ x)) if x @ x > 0 else np.nan
        xs = np.linspace(np.quantile(x, 0.01), np.quantile(x, 0.99), 2)
        ax.plot(xs, slope * xs, color="C3", lw=2)
        ax.axhline(0, color="0.8", lw=0.8, zorder=0)
        ax.set_title(f"{lev}" if lev is not None else sync, fontsize=10)
        ax.set_xlabel(f"{semantic} | acoustics, dyad")
        ax.text(0.03, 0.95, f"slope = {slope:.3g}\nn = {len(x)}", transform=ax.transAxes,
                va="top", fontsize=8)  # fmt: skip
    axes[0].set_ylabel(f"{sync} | acoustics, dyad")
    fig.suptitle("Synchrony vs semantic alignment, acoustics partialled out", fontsize=10)
    fig.tight_layout()
    if show:
        plt.show()
    return fig
