"""FnirsStudy: ``pairs=`` names which channel pairs (``kind=`` kept as a deprecated alias)."""

from __future__ import annotations

import numpy as np
import pytest

from hyperalign.coupling.fnirs_study import FnirsDyad, FnirsStudy


@pytest.fixture(scope="module")
def study():
    import mne

    rng = np.random.default_rng(0)
    info = mne.create_info(["a hbo", "b hbo"], 5.0, "hbo")
    raws = [mne.io.RawArray(rng.standard_normal((2, 300)), info, verbose=False) for _ in "12"]
    return FnirsStudy([FnirsDyad(raws[0], raws[1], "d")]).compute_wtcs()


def test_pairs_selects_the_matrix(study):
    inter = study.coherence_matrix(pairs="inter")
    intra = study.coherence_matrix("intra1")
    assert inter.shape == intra.shape == (2, 2)
    np.testing.assert_allclose(np.diag(intra.to_numpy()), 1.0, atol=1e-9)
    t, series = study.time_series("a hbo", "b hbo", pairs="intra2")
    assert series.shape == (1, t.size)
    with pytest.raises(ValueError, match="pairs"):
        study.coherence_matrix(pairs="intra3")


def test_kind_is_a_deprecated_alias(study):
    with pytest.warns(FutureWarning, match=r"coherence_matrix\(kind=.*use pairs="):
        old = study.coherence_matrix(kind="intra1")
    assert old.equals(study.coherence_matrix(pairs="intra1"))
    with pytest.warns(FutureWarning, match=r"time_series\(kind=.*use pairs="):
        _, s_old = study.time_series("a hbo", "b hbo", kind="intra2")
    _, s_new = study.time_series("a hbo", "b hbo", pairs="intra2")
    np.testing.assert_array_equal(s_old, s_new)
