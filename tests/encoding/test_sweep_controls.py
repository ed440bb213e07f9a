"""Controls of a layer sweep: noise ceiling, self-predictability, acoustic baseline."""

from __future__ import annotations

import numpy as np
import pytest

from hyperalign.encoding.controls import (
    acoustic_word_features,
    noise_ceiling,
    self_predictability,
)


def test_noise_ceiling_matches_known_reliability():
    rng = np.random.default_rng(0)
    n, T = 4000, 3
    s = rng.standard_normal((n, T))
    reps = np.stack([s + rng.standard_normal((n, T)) * 1.0 for _ in range(4)])
    # one repetition: var(s) / (var(s) + var(e)) = 0.5 -> ceiling sqrt(0.5)
    c1 = noise_ceiling(reps, evaluated_on="single")
    np.testing.assert_allclose(c1.values[:, 0], np.sqrt(0.5), atol=0.03)
    # mean of 4: 1 / (1 + 1/4) = 0.8
    c4 = noise_ceiling(reps, evaluated_on="mean")
    np.testing.assert_allclose(c4.values[:, 0], np.sqrt(0.8), atol=0.03)
    assert "split-half over 4 repetitions" in c4.attrs["method"]
    with pytest.raises(ValueError, match="a conversation heard once has no noise ceiling"):
        noise_ceiling(reps[:1])


@pytest.fixture(scope="module")
def dyad():
    from hyperalign.simulation import simulate_conversation

    d, _ = simulate_conversation(duration=90, n_channels=8, sfreq=50, random_state=1,
                                 audio=True, audio_sfreq=8000)  # fmt: skip
    return d


def test_self_predictability_baseline(dyad):
    from scipy.signal import lfilter

    lags = np.array([-0.2, 0.0, 0.3])
    raw = dyad[dyad.ids[0]].raw
    rng = np.random.default_rng(0)
    slow = lfilter([1.0], [1.0, -0.995], rng.standard_normal(raw._data.shape), axis=1)
    raw._data[:] = slow * 1e-6  # a slow (AR(1), phi = 0.995) signal in volts
    r = self_predictability(dyad, participant=dyad.ids[0], role="comprehension", lags=lags,
                            window=0.2, cv=3)  # fmt: skip
    assert r.dims == ("target", "lag") and r.shape == (8, 3)
    assert np.isfinite(r.values).all()
    # a slow signal: the window's own past predicts it well
    assert float(r.min()) > 0.5
    assert r.attrs["baseline"] == "self"


def test_acoustic_baseline_goes_through_sweep(dyad):
    from hyperalign.encoding.sweep import sweep_layers

    ac = acoustic_word_features(dyad)
    assert len(ac) == len(dyad.transcript.words)
    assert ac.shape[1] > 3
    sw = sweep_layers(dyad, {"acoustic": ac}, lags=np.array([0.0, 0.3]), window=0.2, cv=3,
                      inner_cv=3, participants=[dyad.ids[0]], roles=["comprehension"])  # fmt: skip
    assert list(sw.layers["modality"]) == ["control"]
