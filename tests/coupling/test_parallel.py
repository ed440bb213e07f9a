"""Threads, BLAS limits and compiled-kernel caching of the synchrony engine (issue 11)."""

import numpy as np
import pytest

from hyperalign.utils import available_cores, blas_limits, check_threads, single_thread_blas


def test_check_threads():
    assert check_threads(None) == available_cores() >= 1
    assert check_threads(2) == 2
    for bad in (0, 1.5, True):
        with pytest.raises(ValueError, match=r"n_threads must be a positive integer or None"):
            check_threads(bad)


def test_blas_limits_restore():
    from threadpoolctl import threadpool_info

    before = [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]
    with single_thread_blas():
        inside = [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]
        assert all(n == 1 for n in inside)
    after = [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]
    assert after == before
    with pytest.raises(ValueError, match=r"n_threads must be a positive integer"):
        blas_limits(0)


def test_metrics_module_keeps_old_names():
    from hyperalign.coupling import metrics

    assert metrics._check_threads(3) == 3 and callable(metrics._thread_pool)
    assert metrics.available_cores() == available_cores()


def test_numba_kernels_cached_on_disk():
    pytest.importorskip("numba")
    from hyperalign.coupling._numba_kernels import KERNELS

    for parallel in (True, False):
        for name, disp in KERNELS[parallel].items():
            assert disp._cache.__class__.__name__ == "FunctionCache", name
            # each variant has its own cache file (numba would otherwise share the code)
            assert disp.py_func.__qualname__.endswith("_parallel" if parallel else "_serial")


def test_torch_backend_flat_channels_nan():
    pytest.importorskip("torch")
    from hyperalign.coupling import compute_sync

    d = np.random.default_rng(0).standard_normal((2, 2, 3, 256))
    d[0, 0, 1] = 0.0
    ref = compute_sync(d, 128.0, {"a": (8, 12)}, ["plv", "wpli", "ccorr"]).get_data()
    tor = compute_sync(d, 128.0, {"a": (8, 12)}, ["plv", "wpli", "ccorr"], backend="torch")
    np.testing.assert_array_equal(np.isnan(tor.get_data()), np.isnan(ref))
    np.testing.assert_allclose(tor.get_data(), ref, atol=1e-10)
