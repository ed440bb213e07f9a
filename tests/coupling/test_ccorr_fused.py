"""Fused numba kernels (ccorr's centred sine, envelope rows) equal the NumPy path."""

import numpy as np
import pytest

from hyperalign.coupling.metrics import sync_from_analytic


@pytest.mark.parametrize("metric", ["ccorr", "ccorr_signed", "envelope_corr", "pow_corr"])
def test_fused_equals_numpy_and_shared(metric):
    pytest.importorskip("numba")
    rng = np.random.default_rng(3)
    z1 = rng.standard_normal((4, 5, 200)) + 1j * rng.standard_normal((4, 5, 200))
    z2 = rng.standard_normal((4, 6, 200)) + 1j * rng.standard_normal((4, 6, 200))
    fused = sync_from_analytic(z1, z2, metric, use_numba=True)
    plain = sync_from_analytic(z1, z2, metric, use_numba=False)
    np.testing.assert_allclose(fused, plain, rtol=1e-12, atol=1e-14)
    # full matrix (x is y) and after plv has made the unit phasors
    zz = np.concatenate([z1, z2[:, :5]], axis=1)
    np.testing.assert_allclose(
        sync_from_analytic(zz, zz, metric, use_numba=True),
        sync_from_analytic(zz, zz, metric, use_numba=False),
        rtol=1e-12,
        atol=1e-14,
    )
