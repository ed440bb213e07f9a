"""torch backend (CPU, and CUDA when present) vs NumPy; numba vs blocked NumPy loops."""

from __future__ import annotations

import numpy as np
import pytest

from hyperalign.coupling import METRICS, compute_sync, sync_from_analytic
from hyperalign.coupling.backend import get_backend

torch = pytest.importorskip("torch")

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
BANDS = {"theta": (4.0, 8.0), "beta": (13.0, 30.0)}


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(7)
    common = rng.standard_normal((1, 5, 1, 256))
    return rng.standard_normal((2, 5, 4, 256)) + common


@pytest.mark.parametrize("device", DEVICES)
def test_torch_equals_numpy_float64(data, device):
    names = list(METRICS)
    a = compute_sync(data, 128.0, BANDS, names, lags=(0.0, 0.05), mode="all")
    b = compute_sync(
        data, 128.0, BANDS, names, lags=(0.0, 0.05), mode="all", backend="torch", device=device
    )
    assert b.attrs["backend"] == "torch"
    np.testing.assert_allclose(b.get_data(), a.get_data(), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("device", DEVICES)
def test_torch_float32(data, device):
    names = [n for n in METRICS if n != "pli"]  # pli: sign() of near-zero values may flip
    a = compute_sync(data, 128.0, BANDS, names, filter_method="fft")
    b = compute_sync(
        data,
        128.0,
        BANDS,
        names,
        filter_method="fft",
        backend="torch",
        device=device,
        dtype="float32",
    )
    assert b.get_data().dtype == np.float32
    np.testing.assert_allclose(b.get_data(), a.get_data(), atol=2e-4)


def test_sync_from_analytic_torch(data):
    rng = np.random.default_rng(0)
    z1 = rng.standard_normal((3, 4, 50)) + 1j * rng.standard_normal((3, 4, 50))
    z2 = rng.standard_normal((3, 2, 50)) + 1j * rng.standard_normal((3, 2, 50))
    for name in METRICS:
        ref = sync_from_analytic(z1, z2, name)
        got = sync_from_analytic(z1, z2, name, backend="torch", device="cpu")
        assert isinstance(got, np.ndarray) and got.shape == (3, 4, 2)
        np.testing.assert_allclose(got, ref, rtol=1e-10, atol=1e-12)


def test_numba_and_blocked_loops_agree():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 5, 70)) + 1j * rng.standard_normal((2, 5, 70))
    y = rng.standard_normal((2, 3, 70)) + 1j * rng.standard_normal((2, 3, 70))
    ref_abs = np.abs((x[:, :, None] * np.conj(y[:, None])).imag).sum(-1)
    ref_sign = np.sign((x[:, :, None] * np.conj(y[:, None])).imag).sum(-1)
    for use_numba in (False, True):
        ops = get_backend("numpy", use_numba=use_numba)
        if use_numba and not ops.use_numba:
            continue
        np.testing.assert_allclose(ops.im_sums(x, y, "abs"), ref_abs, rtol=1e-12)
        np.testing.assert_array_equal(ops.im_sums(x, y, "sign"), ref_sign)


def test_backend_errors():
    with pytest.raises(ValueError, match="backend must be one of"):
        get_backend("jax")
    with pytest.raises(ValueError, match="needs backend='torch'"):
        get_backend("numpy", device="cuda")
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="no CUDA device"):
            get_backend("torch", device="cuda")


def test_numba_symmetric_path_equals_full():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 6, 80)) + 1j * rng.standard_normal((2, 6, 80))
    ops = get_backend("numpy", use_numba=True)
    if not ops.use_numba:
        pytest.skip("numba is not installed")
    for kind in ("abs", "sign"):
        sym = ops.im_sums(x, x, kind)  # same object: one triangle, mirrored
        full = ops.im_sums(x, x.copy(), kind)
        np.testing.assert_allclose(sym, full, rtol=1e-12, atol=1e-12)


def test_serial_and_parallel_kernels_agree_on_strided_inputs():
    """Compiled loops read interleaved (re, im) rows; strided inputs are made contiguous."""
    ops = get_backend("numpy", use_numba=True)
    if not ops.use_numba:
        pytest.skip("numba is not installed")
    rng = np.random.default_rng(5)
    z = rng.standard_normal((3, 2, 4, 90)) + 1j * rng.standard_normal((3, 2, 4, 90))
    x, y = z[:, 0, :, 3:], z[:, 1, :, :-3]  # strided batch, shifted window
    ref = {
        "abs": np.abs((x[:, :, None] * np.conj(y[:, None])).imag).sum(-1),
        "sign": np.sign((x[:, :, None] * np.conj(y[:, None])).imag).sum(-1),
    }
    for o in (ops, ops.serial()):
        for kind in ("abs", "sign"):
            np.testing.assert_allclose(o.im_sums(x, y, kind), ref[kind], rtol=1e-12)
        blocked = get_backend("numpy", use_numba=False)
        np.testing.assert_allclose(o.centered_sin(x), blocked.centered_sin(x), rtol=1e-10)
        for power in (False, True):
            np.testing.assert_allclose(
                o.unit_envelope(y, power), blocked.unit_envelope(y, power), rtol=1e-10
            )
        np.testing.assert_allclose(o.power(x), (np.abs(x) ** 2).sum(-1), rtol=1e-12)


@pytest.mark.parametrize("mode", ["inter", "all"])
def test_epoch_threads_give_identical_values(data, mode):
    names = list(METRICS)
    kw = dict(lags=(0.0, 0.05), mode=mode, filter_method="fft")
    one = compute_sync(data, 128.0, BANDS, names, n_threads=1, **kw).get_data()
    for n in (2, 3, 8):  # more threads than epochs is fine
        many = compute_sync(data, 128.0, BANDS, names, n_threads=n, **kw).get_data()
        np.testing.assert_allclose(many, one, rtol=1e-13, atol=1e-14)
    with pytest.raises(ValueError, match="n_threads must be a positive integer"):
        compute_sync(data, 128.0, BANDS, names, n_threads=0)


def test_band_sync_equals_sync_from_analytic():
    from hyperalign.coupling.metrics import band_sync

    rng = np.random.default_rng(6)
    zb = rng.standard_normal((4, 2, 3, 64)) + 1j * rng.standard_normal((4, 2, 3, 64))
    names = ["plv", "wpli", "ccorr"]
    ops = get_backend("numpy")
    out = np.empty((3, 4, 3, 3))
    band_sync(ops, zb, names, out, lag=2, mode="inter", n_threads=2)
    for mi, m in enumerate(names):
        np.testing.assert_allclose(
            out[mi], sync_from_analytic(zb[:, 0, :, :-2], zb[:, 1, :, 2:], m), rtol=1e-12
        )
    full = np.empty((3, 4, 6, 6))
    band_sync(ops, zb, names, full, mode="all", n_threads=2)
    xy = zb.reshape(4, 6, 64)
    for mi, m in enumerate(names):
        np.testing.assert_allclose(full[mi], sync_from_analytic(xy, xy, m), rtol=1e-12)


def test_kernels_from_worker_threads():
    """Dask/joblib threads may call the kernels concurrently: off the main thread the compiled
    loops run serially (numba's workqueue layer aborts on concurrent parallel launches)."""
    from concurrent.futures import ThreadPoolExecutor

    rng = np.random.default_rng(8)
    z1 = rng.standard_normal((6, 5, 120)) + 1j * rng.standard_normal((6, 5, 120))
    z2 = rng.standard_normal((6, 4, 120)) + 1j * rng.standard_normal((6, 4, 120))
    ref = {m: sync_from_analytic(z1, z2, m) for m in ("wpli", "pli", "ccorr", "envelope_corr")}
    with ThreadPoolExecutor(4) as pool:
        futs = [(m, pool.submit(sync_from_analytic, z1, z2, m)) for m in ref for _ in range(3)]
        for m, f in futs:
            np.testing.assert_allclose(f.result(), ref[m], rtol=1e-12, atol=1e-14)


def test_thread_pool_survives_fork(data):
    """A child forked after the pool exists must not wait on the parent's (absent) threads."""
    import multiprocessing as mp
    import sys

    if sys.platform != "linux":
        pytest.skip("fork start method is Linux-only here")
    compute_sync(data, 128.0, BANDS, "plv", n_threads=2)  # the parent's pool exists
    ctx = mp.get_context("fork")
    with ctx.Pool(1) as pool:
        res = pool.apply_async(_sync_in_child, (data,))
        got = res.get(timeout=120)
    ref = compute_sync(data, 128.0, BANDS, "plv", n_threads=2).get_data()
    np.testing.assert_allclose(got, ref, rtol=1e-12)


def _sync_in_child(data):
    return compute_sync(data, 128.0, BANDS, "plv", n_threads=2).get_data()


def test_im_sums_op_and_deprecated_kind():
    """``op=`` names the summed function; ``kind=`` is a deprecated alias (issue 11)."""
    from hyperalign.coupling.backend import NumpyOps

    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 3, 50)) + 1j * rng.standard_normal((2, 3, 50))
    y = rng.standard_normal((2, 2, 50)) + 1j * rng.standard_normal((2, 2, 50))
    for ops in (NumpyOps(use_numba=False), NumpyOps()):
        ref = ops.im_sums(x, y, "sign")
        np.testing.assert_array_equal(ops.im_sums(x, y, op="sign"), ref)
        with pytest.warns(FutureWarning, match=r"im_sums\(kind=.*use op="):
            old = ops.im_sums(x, y, kind="sign")
        np.testing.assert_array_equal(old, ref)
        with pytest.raises(ValueError, match="op must be 'sign' or 'abs'; got 'max'"):
            ops.im_sums(x, y, "max")
