"""Recovery against the truth: found vs planted, cell by cell."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hyperalign.report.recovery import compute_recovery

ROIS = {"frontal": ["Fz", "F3"], "central": ["Cz", "C3"], "parietal": ["Pz", "P3"]}
BANDS = {"theta": (4.0, 8.0), "alpha": (9.0, 13.0)}


def _planted() -> pd.DataFrame:
    return pd.DataFrame(
        [{"dyad": f"d{i}", "effect": "semantic_coupling", "size": 0.08, "fmin": 4.0,
          "fmax": 8.0, "channels": ["Fz", "Cz"], "lag_s": lag}
         for i, lag in enumerate((0.12, 0.19))]
    )  # fmt: skip


def _results(sig: set) -> pd.DataFrame:
    rows = []
    for b in BANDS:
        for r in ROIS:
            for lag in (0.0, 0.1, 0.2):
                p = 0.01 if (b, r, lag) in sig else 0.6
                rows.append({"band": b, "roi": f"{r}-{r}", "lag": lag, "beta_sem": 1.0,
                             "ci_low": 0.5, "ci_high": 1.5, "p_corrected": p})  # fmt: skip
    return pd.DataFrame(rows)


def test_hits_misses_false_alarms():
    sig = {("theta", "frontal", 0.1), ("theta", "central", 0.2), ("alpha", "central", 0.1)}
    rec = compute_recovery(_results(sig), _planted(), bands=BANDS, rois=ROIS)
    t = rec.table.set_index(["band", "roi", "lag"])
    # planted: theta x {frontal, central} x lags {0.1, 0.2} (0.12-0.19 s +- 0.05 s)
    assert int(rec.table["planted"].sum()) == 4
    assert t.loc[("theta", "frontal-frontal", 0.1), "outcome"] == "hit"
    assert t.loc[("theta", "frontal-frontal", 0.2), "outcome"] == "miss"
    assert t.loc[("alpha", "central-central", 0.1), "outcome"] == "false alarm"
    assert t.loc[("theta", "parietal-parietal", 0.1), "outcome"] == "correct rejection"
    assert t.loc[("theta", "frontal-frontal", 0.0), "planted"] == np.False_
    assert rec.counts == {"hits": 2, "misses": 2, "false_alarms": 1,
                          "correct_rejections": 13, "n_planted": 4, "n_cells": 18}  # fmt: skip
    assert not rec.ok
    line = rec.summary()
    assert "2 hit(s), 2 miss(es) of 4 planted" in line and "1 false alarm(s) in 14" in line
    assert "4-8 Hz" in line and "central/frontal" in line
    assert rec.to_data_frame().shape == (18, len(rec.table.columns))


def test_adjacent_band_edge_is_not_planted():
    # a band touching the planted band at 8 Hz is not planted (overlap must be > 0 Hz)
    bands = {"theta": (4.0, 8.0), "alpha": (8.0, 13.0)}
    rec = compute_recovery(_results(set()), _planted(), bands=bands, rois=ROIS)
    assert not rec.table.loc[rec.table["band"] == "alpha", "planted"].any()
    assert rec.counts["misses"] == 4 and rec.counts["hits"] == 0


def test_recovery_errors():
    res = _results(set())
    with pytest.raises(ValueError, match=r"effect='nope' is not in the planted effects"):
        compute_recovery(res, _planted(), bands=BANDS, effect="nope")
    with pytest.raises(ValueError, match=r"bands lacks the result band\(s\) \['alpha'\]"):
        compute_recovery(res, _planted(), bands={"theta": (4, 8)})
    with pytest.raises(KeyError, match="p_column='q' is not a column"):
        compute_recovery(res, _planted(), bands=BANDS, p_column="q")
    with pytest.raises(KeyError, match=r"cell column\(s\) \['lag'\]"):
        compute_recovery(res.drop(columns="lag"), _planted(), bands=BANDS)
