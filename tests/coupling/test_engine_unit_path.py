"""The engine's unit-phasor path gives exactly the numbers of the general path (issue 14).

PLV alone takes a shorter path (unit phasors once per continuous signal, windows copied from
a strided view, circular shifts as offsets instead of rolled copies); these tests hold it to
the general path (PLV computed beside ccorr, and rolled copies of participant 2), bit for bit.
"""

from __future__ import annotations

import numpy as np
import pytest

from hyperalign.coupling import compute_dyad_sync
from hyperalign.coupling._engine import _sync_from_prepared, _unit_path
from hyperalign.coupling.dyad_sync import _prepare
from hyperalign.coupling.surrogates import compute_surrogate_sync

KW = dict(bands={"theta": (4.0, 8.0), "alpha": (9.0, 13.0)}, lags=(0.0, 0.1, 0.2),
          min_duration=1.0, filter_method="fft")  # fmt: skip


@pytest.fixture(scope="module")
def dyad(make_planted_dyad):
    return make_planted_dyad(duration=40.0, sfreq=100.0, n_channels=4, seed=3)


def test_plv_alone_equals_plv_beside_ccorr(dyad):
    alone = compute_dyad_sync(dyad, metrics=("plv",), **KW)
    both = compute_dyad_sync(dyad, metrics=("plv", "ccorr"), **KW)
    a = alone.xarray.sel(metric="plv").values
    b = both.xarray.sel(metric="plv").values
    assert np.isfinite(a).any()
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_shift_offsets_equal_rolled_copies(dyad, n_jobs):
    prep = _prepare(dyad, metrics=("plv",), **KW)
    prep.extra["n_jobs"] = n_jobs
    assert _unit_path(prep, prep.z[0])
    n_t = prep.z.shape[-1]
    for shift in (1, 517, n_t - 3):
        by_offset = _sync_from_prepared(prep, shift=shift).xarray.values
        rolled = np.roll(prep.z[1], shift, axis=-1)
        by_copy = _sync_from_prepared(prep, z2_override=rolled).xarray.values
        np.testing.assert_array_equal(by_offset, by_copy)
    general = _prepare(dyad, metrics=("plv", "ccorr"), **KW)
    general.extra["n_jobs"] = n_jobs
    ref = _sync_from_prepared(general, z2_override=np.roll(general.z[1], 517, axis=-1))
    got = _sync_from_prepared(prep, shift=517)
    np.testing.assert_array_equal(got.xarray.values[0], ref.xarray.sel(metric="plv").values)


def test_circular_shift_null_is_reproducible_and_seeded(dyad):
    a = compute_surrogate_sync(dyad, "circular_shift", 3, random_state=0, metrics=("plv",), **KW)
    b = compute_surrogate_sync(dyad, "circular_shift", 3, random_state=0, metrics=("plv",), **KW)
    np.testing.assert_array_equal(a.xarray.values, b.xarray.values)
    both = compute_surrogate_sync(dyad, "circular_shift", 3, random_state=0,
                                  metrics=("plv", "ccorr"), **KW)  # fmt: skip
    np.testing.assert_array_equal(a.xarray.values[0], both.xarray.sel(metric="plv").values)


def test_non_finite_signals_take_the_general_path(dyad):
    prep = _prepare(dyad, metrics=("plv",), **KW)
    z2 = prep.z[1].copy()
    mid = z2.shape[-1] // 2
    z2[..., mid : mid + 10] = np.nan  # inside a conversation: some windows touch it
    assert not _unit_path(prep, prep.z[0], z2)
    out = _sync_from_prepared(prep, z2_override=z2).xarray.values
    assert np.isnan(out).any() and np.isfinite(out).any()
