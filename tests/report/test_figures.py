"""Report figures: labels that do not overlap, topomaps on the montage."""

from __future__ import annotations

import itertools

import matplotlib
import numpy as np
import pandas as pd
import pytest

from hyperalign.report import plot_sync_overview, plot_sync_topomaps

matplotlib.use("Agg")

ROIS = {
    "frontal": ["Fp1", "Fp2", "F3", "Fz", "F4"],
    "central": ["FC1", "FC2", "C3", "Cz", "C4"],
    "temporal": ["T7", "T8"],
    "parietal": ["P3", "Pz", "P4", "O1", "O2"],
}


def _sync(rng) -> pd.DataFrame:
    rows = []
    for band, lag, ri, ro, u in itertools.product(
        ("theta", "alpha"), (0.0, 0.1, 0.2), ROIS, ROIS, range(5)
    ):
        rows.append(
            {
                "band": band,
                "lag": lag,
                "roi_in": ri,
                "roi_out": ro,
                "metric": "plv",
                "roi": f"{ri}-{ro}",
                "utterance_id": u,
                "dyad": "d0",
                "sync_z": rng.normal(1.0 if band == "theta" and ri == ro else 0.0),
            }
        )
    return pd.DataFrame(rows)  # fmt: skip


def _texts(fig):
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    out = [fig._suptitle] if fig._suptitle is not None else []
    for ax in fig.axes:
        out += [ax.title, ax.xaxis.label, ax.yaxis.label]
        out += ax.get_xticklabels() + ax.get_yticklabels()
    return [(t.get_text(), t.get_window_extent(r)) for t in out if t.get_text().strip()]


def test_overview_labels_do_not_overlap():
    fig = plot_sync_overview(_sync(np.random.default_rng(0)), "sync_z", "plv")
    texts = _texts(fig)
    assert len(texts) > 40
    clashes = [
        (a, b)
        for (a, ea), (b, eb) in itertools.combinations(texts, 2)
        if ea.overlaps(eb) and ea.intersection(ea, eb).width * ea.intersection(ea, eb).height > 1
    ]
    assert not clashes, clashes[:5]


def test_topomaps_on_the_montage():
    fig = plot_sync_topomaps(_sync(np.random.default_rng(0)), ROIS, planted_channels=["Fz"])
    assert [ax.get_title() for ax in fig.axes[:2]] == ["theta", "alpha"]
    with pytest.raises(ValueError, match="no channel of the ROIs is in the 'standard_1020'"):
        plot_sync_topomaps(_sync(np.random.default_rng(0)), {"x": ["nope1", "nope2"]})
