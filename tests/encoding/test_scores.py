"""Scores: equal to himalaya's scoring functions, NaN-safe, split R², variance partition."""

from __future__ import annotations

import numpy as np
import pytest

from hyperalign.encoding.scores import (
    correlation_score,
    r2_score,
    r2_score_split,
    variance_partition,
)

pytest.importorskip("himalaya")


def _pair(seed=0, n=80, t=6):
    rng = np.random.default_rng(seed)
    y = rng.standard_normal((n, t)) + 1.0
    p = 0.5 * y + rng.standard_normal((n, t))
    return y, p


def test_equal_himalaya_scores():
    from himalaya import scoring

    y, p = _pair()
    np.testing.assert_allclose(
        correlation_score(y, p), scoring.correlation_score(y, p), rtol=1e-10
    )
    np.testing.assert_allclose(r2_score(y, p), scoring.r2_score(y, p), rtol=1e-10)
    y[:, 2] = 3.0  # constant column: 0, as himalaya
    assert correlation_score(y, p)[2] == 0.0 and r2_score(y, p)[2] == 0.0
    np.testing.assert_allclose(
        correlation_score(y, p), scoring.correlation_score(y, p), atol=1e-12
    )


def test_nan_rows_excluded_per_column():
    y, p = _pair()
    p2 = p.copy()
    p2[:10, 0] = np.nan  # e.g. rows in no test fold
    y2 = y.copy()
    y2[20, 1] = np.nan
    r = correlation_score(y2, p2)
    np.testing.assert_allclose(r[0], correlation_score(y[10:, :1], p[10:, :1])[0], rtol=1e-12)
    keep = np.arange(80) != 20
    np.testing.assert_allclose(r[1], correlation_score(y[keep, 1:2], p[keep, 1:2])[0])
    np.testing.assert_allclose(r[2:], correlation_score(y, p)[2:])
    np.testing.assert_allclose(r2_score(y2, p2)[0], r2_score(y[10:, :1], p[10:, :1])[0])
    p3 = p.copy()
    p3[1:, 3] = np.nan
    assert np.isnan(correlation_score(y, p3)[3])  # fewer than 2 valid rows
    with pytest.raises(ValueError, match="same shape"):
        correlation_score(y, p[:, :2])


def test_split_r2_equals_himalaya_and_sums_to_joint():
    from himalaya.scoring import r2_score_split as ref

    rng = np.random.default_rng(2)
    preds = rng.standard_normal((3, 100, 4)) * [[[1.0]], [[0.5]], [[0.2]]]
    y = preds.sum(0) + rng.standard_normal((100, 4))
    y -= y.mean(0)
    split = r2_score_split(y, preds)
    np.testing.assert_allclose(split, ref(y, preds), rtol=1e-10)
    joint = 1 - ((y - preds.sum(0)) ** 2).sum(0) / (y**2).sum(0)
    np.testing.assert_allclose(split.sum(0), joint, rtol=1e-10)
    with pytest.warns(UserWarning, match="not zero-mean"):
        r2_score_split(y + 5, preds)


def test_variance_partition_two_and_three_spaces():
    a, b, ab = np.array([0.2, 0.1]), np.array([0.15, 0.3]), np.array([0.3, 0.35])
    df = variance_partition(ab, {"sem": a, "ac": b})
    got = df.pivot(index="target", columns="component", values="r2")
    np.testing.assert_allclose(got["unique:sem"], ab - b)
    np.testing.assert_allclose(got["unique:ac"], ab - a)
    np.testing.assert_allclose(got["shared:ac+sem"], a + b - ab)
    # three spaces from set measures on a known Venn diagram
    rng = np.random.default_rng(0)
    atoms = {
        frozenset(s): rng.uniform(0, 0.1)
        for s in [("a",), ("b",), ("c",), ("a", "b"), ("a", "c"), ("b", "c"), ("a", "b", "c")]
    }

    def r2(spaces):
        return np.array([sum(v for k, v in atoms.items() if k & set(spaces))])

    reduced = {s: r2(s) for s in [("a",), ("b",), ("c",), ("a", "b"), ("a", "c"), ("b", "c")]}
    df = variance_partition(r2(("a", "b", "c")), reduced)
    for k, v in atoms.items():
        label = ("unique:" if len(k) == 1 else "shared:") + "+".join(sorted(k))
        np.testing.assert_allclose(df.loc[df.component == label, "r2"].to_numpy(), [v])
    # leave-one-out models only: unique parts, no shared parts
    loo = {s: reduced[s] for s in [("a", "b"), ("a", "c"), ("b", "c")]}
    df = variance_partition(r2(("a", "b", "c")), loo)
    assert set(df.component) == {"unique:a", "unique:b", "unique:c"}


def test_variance_partition_bad_input():
    with pytest.raises(TypeError, match="r2_reduced must be a non-empty dict"):
        variance_partition([0.1], {})
    with pytest.raises(ValueError, match=r"r2_reduced\['a'\] has shape \(2,\)"):
        variance_partition([0.1], {"a": [0.1, 0.2]})
    with pytest.raises(ValueError, match="no component can be computed"):
        variance_partition([0.3], {"a": [0.1]}, spaces=["a", "b", "c"])
