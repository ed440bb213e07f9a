"""Folds on the clock: blocks, turn blocks, groups, purge, shuffled refusal, leakage."""

from __future__ import annotations

import numpy as np
import pytest

from hyperalign.encoding import (
    Folds,
    LeakageError,
    check_leakage,
    make_folds,
    make_group_folds,
    shuffled_folds,
)


def test_blocks_partition_and_purge():
    t = np.arange(100) * 0.5
    folds = make_folds(t, 5, gap=2.0)
    assert folds.n_splits == 5
    idx = folds.split(t)
    tests = np.concatenate([te for _, te in idx])
    assert np.array_equal(np.sort(tests), np.arange(100))  # every sample tested once
    for (tr, te), (a, b) in zip(idx, folds.intervals):
        assert np.all((t[tr] < a - 2.0) | (t[tr] >= b + 2.0))
        assert len(te) == 20
    check_leakage(idx, t, 2.0)  # purged by the window -> no leak
    df = folds.to_data_frame()
    assert list(df.columns[:5]) == ["fold", "start", "stop", "gap", "scheme"]


def test_folds_shared_between_subsets():
    rng = np.random.default_rng(0)
    t = np.sort(rng.uniform(0, 100, 300))
    folds = make_folds(t, 4, gap=1.0)
    sub = t[::3]  # e.g. one speaker's words: the same intervals apply
    m_all, m_sub = folds.test_masks(t), folds.test_masks(sub)
    assert np.array_equal(m_all[:, ::3], m_sub)


def test_turn_blocks_snap_to_boundaries():
    t = np.arange(0, 60, 0.3)
    turns = np.arange(0, 60, 7.0)
    folds = make_folds(t, 3, boundaries=turns)
    assert folds.scheme == "turns"
    for a, _ in folds.intervals[1:]:
        assert a in turns


def test_group_folds():
    g = np.repeat(["d1", "d2", "d3"], 10)
    folds = make_group_folds(g)
    idx = folds.split(np.arange(30.0), groups=g)
    assert len(idx) == 3
    for tr, te in idx:
        assert len(set(g[te])) == 1 and set(g[te]).isdisjoint(g[tr])
    f2 = make_group_folds(g, n_splits=2)
    assert f2.n_splits == 2
    with pytest.raises(ValueError, match="pass groups="):
        folds.split(np.arange(30.0))


def test_shuffled_refused_unless_reason():
    with pytest.raises(ValueError, match="allow_shuffled='<why"):
        shuffled_folds(100, 5)
    with pytest.raises(ValueError, match="refused"):
        shuffled_folds(100, 5, allow_shuffled="  ")
    f = shuffled_folds(100, 5, allow_shuffled="independent trials", random_state=0)
    assert f.reason == "independent trials" and f.n_splits == 5
    assert f.to_dict()["reason"] == "independent trials"


def test_leakage_detected_with_fix():
    t = np.arange(200) * 0.4
    f = shuffled_folds(200, 5, allow_shuffled="testing the leak check", random_state=0)
    with pytest.raises(LeakageError, match=r"make_folds\(times, n_splits, gap="):
        check_leakage(f.split(t), t, 1.0)
    blocks = make_folds(t, 5).split(t)  # not purged: boundary words leak
    with pytest.raises(LeakageError, match="within the lag window"):
        check_leakage(blocks, t, 2.0)


def test_too_few_samples():
    with pytest.raises(ValueError, match="too few samples for the folds"):
        make_folds(np.arange(5.0), 5)
    with pytest.raises(ValueError, match="gap must be finite"):
        make_folds(np.arange(50.0), 5, gap=-1)
    assert isinstance(make_folds(np.arange(50.0), 5), Folds)


def test_folds_scheme_kind_alias():
    """``Folds.scheme`` was ``kind``: the old keyword and attribute warn for one release."""
    from hyperalign.encoding.splitters import Folds

    with pytest.warns(FutureWarning, match=r"Folds\(kind=\.\.\.\) is deprecated.*use scheme="):
        f = Folds([(0.0, 1.0), (1.0, 2.0)], 0.5, kind="turns")
    assert f.scheme == "turns" and f == Folds([(0.0, 1.0), (1.0, 2.0)], 0.5, "turns")
    with pytest.warns(FutureWarning, match=r"Folds\(kind=.*use scheme="):
        assert f.kind == "turns"
    assert f.to_dict()["scheme"] == "turns" and "kind" not in f.to_dict()
