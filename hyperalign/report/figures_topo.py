"""Topographic maps of inter-brain synchrony per band on the EEG montage."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd


def _positions(ch_names: Sequence[str], montage: str | None) -> tuple[list[str], object]:
    """MNE Info of the channels the montage knows (others are left out)."""

    import mne

    if montage is None:  # the simulation's cap (colin27_1020, formerly standard_1020)
        from ..simulation._signals import standard_montage

        mont = standard_montage()
    else:
        mont = mne.channels.make_standard_montage(montage)
    known = [c for c in ch_names if c in mont.ch_names]
    info = mne.create_info(known, 256.0, "eeg")
    info.set_montage(mont, on_missing="ignore")
    return known, info


def plot_sync_topomaps(
    sync: pd.DataFrame,
    rois: Mapping[str, Sequence[str]],
    value: str = "sync_z",
    metric: str | None = None,
    *,
    planted_channels: Sequence[str] = (),
    montage: str | None = None,
):
    """Speaker -> listener synchrony per band on the montage (homologous ROI pairs).

    Each channel is drawn with the mean ``value`` of its ROI (same ROI for speaker and
    listener), averaged over utterances and lags; one map per band, one colour scale.

    Parameters
    ----------
    sync : DataFrame
        The utterance summary table: ``band, roi_in, roi_out`` (or ``roi``), ``lag``, value.
    rois : dict
        ``{name: [channels]}`` used to summarise the channels.
    value : str
        ``'sync_z'`` (surrogate-corrected) or ``'sync'``.
    metric : str | None
        Keep only this metric.
    planted_channels : sequence of str
        Channels where a simulated effect was planted (drawn as white circles).
    montage : str | None
        A standard MNE montage holding the channel names (``None``: ``standard_1020``).

    Returns
    -------
    fig : matplotlib.figure.Figure
        The figure.

    See Also
    --------
    hyperalign.report.plot_sync_overview
    """
    import matplotlib.pyplot as plt
    import mne

    df = sync if metric is None else sync[sync["metric"] == metric]
    if "roi_in" in df.columns:
        df = df[df["roi_in"] == df["roi_out"]].assign(_roi=lambda d: d["roi_in"])
    else:
        df = df.assign(_roi=df["roi"].astype(str).str.split("-").str[0])
    chans = [c for v in rois.values() for c in v]
    known, info = _positions(chans, montage)
    if not known:
        raise ValueError(
            f"no channel of the ROIs is in the {montage or 'standard_1020'!r} montage (e.g. "
            f"{chans[:3]}); pass montage= with the one of your cap"
        )
    roi_of = {c: r for r, v in rois.items() for c in v}
    bands = list(pd.unique(df["band"]))
    mean = df.groupby(["band", "_roi"])[value].mean()
    vmax = float(np.nanmax(np.abs(mean.to_numpy()))) or 1.0
    fig, axes = plt.subplots(
        1, len(bands), figsize=(2.6 * len(bands) + 1.0, 2.9), squeeze=False, layout="constrained"
    )
    planted = set(planted_channels)
    for ax, band in zip(axes[0], bands):
        vals = np.array([mean.get((band, roi_of[c]), np.nan) for c in known], dtype=float)
        vals = np.nan_to_num(vals, nan=0.0)
        mask = np.array([c in planted for c in known])
        im, _ = mne.viz.plot_topomap(
            vals, info, axes=ax, show=False, cmap="RdBu_r", vlim=(-vmax, vmax), contours=0,
            mask=mask if mask.any() else None,
            mask_params=dict(marker="o", markerfacecolor="w", markeredgecolor="k", markersize=5),
        )  # fmt: skip
        ax.set_title(band, fontsize=10)
    fig.colorbar(im, ax=axes[0].tolist(), label=f"mean {value}", shrink=0.8)
    note = "; white dots: planted channels" if planted else ""
    fig.suptitle(f"Speaker -> listener synchrony by ROI, mean over lags{note}", fontsize=9)
    return fig
