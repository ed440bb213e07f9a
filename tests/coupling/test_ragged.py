"""Ragged epochs (zero padding + n_valid) equal the same epochs computed one by one."""

from __future__ import annotations

import numpy as np
import pytest

from hyperalign.coupling import METRICS, sync_from_analytic


@pytest.fixture(scope="module")
def ragged():
    rng = np.random.default_rng(12)
    lengths = np.array([40, 57, 64, 33])
    n_ep, n_t = len(lengths), int(lengths.max())
    z = rng.standard_normal((2, n_ep, 3, n_t)) + 1j * rng.standard_normal((2, n_ep, 3, n_t))
    z[..., 1, :] += 0.8 * z[..., 0, :]  # some coupling
    for e, n in enumerate(lengths):
        z[:, e, :, n:] = 0.0
    return z, lengths


@pytest.mark.parametrize("metric", sorted(METRICS))
@pytest.mark.parametrize("use_numba", [False, True])
def test_padded_equals_one_by_one(ragged, metric, use_numba):
    z, lengths = ragged
    got = sync_from_analytic(z[0], z[1], metric, n_valid=lengths, use_numba=use_numba)
    for e, n in enumerate(lengths):
        ref = sync_from_analytic(z[0, e : e + 1, :, :n], z[1, e : e + 1, :, :n], metric)
        np.testing.assert_allclose(got[e], ref[0], rtol=1e-10, atol=1e-12)
    same = sync_from_analytic(z[0], z[0], metric, n_valid=lengths, use_numba=use_numba)
    assert np.isfinite(same).all()


@pytest.mark.parametrize("metric", ["plv", "ccorr", "envelope_corr", "accorr", "pli"])
def test_padded_torch(ragged, metric):
    pytest.importorskip("torch")
    z, lengths = ragged
    a = sync_from_analytic(z[0], z[1], metric, n_valid=lengths)
    b = sync_from_analytic(z[0], z[1], metric, n_valid=lengths, backend="torch", device="cpu")
    np.testing.assert_allclose(b, a, rtol=1e-10, atol=1e-12)


def test_n_valid_errors(ragged):
    z, lengths = ragged
    with pytest.raises(ValueError, match="one integer per epoch"):
        sync_from_analytic(z[0], z[1], "plv", n_valid=lengths[:2])
    with pytest.raises(ValueError, match="one integer per epoch"):
        sync_from_analytic(z[0], z[1], "plv", n_valid=lengths + 100)
