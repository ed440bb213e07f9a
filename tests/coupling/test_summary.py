"""summarize_utterances: one tidy row per utterance x metric x band x lag x ROI pair."""

from __future__ import annotations

import numpy as np
import pytest

from hyperalign.coupling.dyad_sync import compute_dyad_sync
from hyperalign.coupling.summary import SUMMARY_COLUMNS, roi_average, summarize_utterances
from hyperalign.coupling.surrogates import compute_surrogate_sync, null_values

KW = dict(metrics=("plv", "ccorr"), bands={"theta": (4.0, 8.0), "alpha": (8.0, 13.0)},
          lags=(0.0, 0.2))  # fmt: skip
ROIS = {"front": ["ch0", "ch1", "ch2"], "back": ["ch3", "ch4", "ch5"]}


@pytest.fixture(scope="module")
def dyad(make_planted_dyad):
    return make_planted_dyad(duration=40.0)


@pytest.fixture(scope="module")
def con(dyad):
    return compute_dyad_sync(dyad, **KW)


def test_default_all_pairs(con):
    df = summarize_utterances(con)
    assert list(df.columns[: len(SUMMARY_COLUMNS)]) == SUMMARY_COLUMNS
    assert len(df) == con.n_epochs * 2 * 2 * 2
    assert (df["roi"] == "all").all() and df["sync_z"].isna().all()
    row = df.query("utterance_id == 1 and metric == 'plv' and band == 'theta' and lag == 0.2")
    v = con.xarray.sel(metric="plv", freqs="theta", lags=0.2).values[1].mean()
    assert row["sync"].item() == pytest.approx(v)
    md = con.epochs_metadata
    assert row["speaker"].item() == md["speaker"].iloc[1]
    assert row["duration"].item() == pytest.approx(md["duration"].iloc[1])
    assert (df["dyad"] == "planted").all()


def test_rois_and_pairs(con):
    df = summarize_utterances(con, rois=ROIS)
    assert len(df) == con.n_epochs * 8 * 4
    assert set(df["roi"]) == {"front-front", "front-back", "back-front", "back-back"}
    r = df.query("utterance_id == 0 and metric == 'ccorr' and band == 'alpha' and lag == 0.0 "
                 "and roi == 'front-back'")  # fmt: skip
    v = con.xarray.sel(metric="ccorr", freqs="alpha", lags=0.0).values[0][:3, 3:].mean()
    assert r["sync"].item() == pytest.approx(v)
    assert (r["roi_in"] == "front").all() and (r["roi_out"] == "back").all()
    pairs = summarize_utterances(con, rois="pairs")
    assert len(pairs) == con.n_epochs * 8 * 36
    p = pairs.query("utterance_id == 2 and metric == 'plv' and band == 'theta' and lag == 0.0 "
                    "and roi == 'ch1-ch4'")  # fmt: skip
    assert p["sync"].item() == pytest.approx(
        con.xarray.sel(metric="plv", freqs="theta", lags=0.0).values[2, 1, 4]
    )
    ra = roi_average(con, ROIS)
    assert ra.node_in == ["front", "back"]
    with pytest.raises(ValueError, match="rois must be None, 'pairs' or a dict"):
        summarize_utterances(con, rois="all")
    with pytest.raises(ValueError, match="ROI 'x': channel\\(s\\) \\['Fz'\\]"):
        summarize_utterances(con, rois={"x": ["Fz"]})


def test_surrogate_corrected_columns(dyad, con):
    null = compute_surrogate_sync(dyad, "circular_shift", 9, random_state=0, **KW)
    df = summarize_utterances(con, rois=ROIS, surrogate=null)
    assert df["sync_z"].notna().all() and (df["n_surrogates"] == 9).all()
    s = null_values(null)  # (S, M, E, B, L, C, C)
    sel = (0, 3, 0, 1)  # plv, utterance 3, theta, lag 0.2
    obs = con.xarray.values[sel][:3, :3].mean()
    sur = s[(slice(None),) + sel][:, :3, :3].mean((-1, -2))
    z = (obs - sur.mean()) / sur.std(ddof=1)
    row = df.query("utterance_id == 3 and metric == 'plv' and band == 'theta' and lag == 0.2 "
                   "and roi == 'front-front'")  # fmt: skip
    assert row["sync_z"].item() == pytest.approx(z)
    assert row["sync_pct"].item() == pytest.approx(100 * np.mean(sur < obs))
    # planted theta front-front at the planted lag is beyond its null; back-back is not
    med = (
        df.query("band == 'theta' and lag == 0.2 and metric == 'plv'")
        .groupby("roi")["sync_z"]
        .median()
    )
    assert med["front-front"] > 3 and abs(med["back-back"]) < 2
    other = compute_dyad_sync(dyad, metrics=("plv",), bands={"theta": (4.0, 8.0)})
    with pytest.raises(ValueError, match="same metrics, bands, lags"):
        summarize_utterances(other, surrogate=null)
