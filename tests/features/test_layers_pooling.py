"""Pooling words to utterances gives exactly the bits of ``np.add.at`` (issue 14: speed)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hyperalign.features.layers import LayerEmbeddings, _group_sums


def _reference(groups, data, n_groups):
    sums = np.zeros((n_groups, *data.shape[1:]), np.float64)
    np.add.at(sums, groups, data)
    return sums


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_group_sums_equal_add_at_bit_for_bit(seed):
    rng = np.random.default_rng(seed)
    n = 400
    groups = np.sort(rng.integers(0, 37, n))
    if seed == 1:  # unsorted groups, some empty
        groups = rng.permutation(groups)
    data = rng.standard_normal((n, 3, 16)) * 10.0 ** rng.integers(-3, 4, (n, 1, 1))
    data = data.astype(np.float32)
    np.testing.assert_array_equal(_group_sums(groups, data, 40), _reference(groups, data, 40))


def test_group_sums_without_rows():
    out = _group_sums(np.zeros(0, int), np.zeros((0, 2, 3), np.float32), 4)
    assert out.shape == (4, 2, 3) and not out.any()


def test_utterance_mean_pooling_unchanged():
    rng = np.random.default_rng(5)
    uid = np.repeat(np.arange(6), [3, 1, 5, 2, 4, 3])
    words = pd.DataFrame({"word": [f"w{i}" for i in range(len(uid))], "utterance_id": uid})
    data = rng.standard_normal((len(uid), 4, 8)).astype(np.float32)
    data[2] = np.nan  # a word without a vector is left out of the mean
    le = LayerEmbeddings(words, data, [f"layer_{i}" for i in range(4)])
    got = le.utterance_embeddings("mean")
    ok = ~np.isnan(data).any(axis=(1, 2))
    sums = _reference(uid[ok], data[ok], 6)
    counts = np.bincount(uid[ok], minlength=6).astype(float)
    np.testing.assert_array_equal(got, (sums / counts[:, None, None]).astype(np.float32))
    np.testing.assert_array_equal(le.utterance_embeddings("mean", layer=2), got[:, 2])
