"""Fixtures for the encoding tests: small simulated dyads and word vectors."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(scope="module")
def sim_dyad():
    """A 150-s simulated dyad (8 EEG channels, 128 Hz) and its planted word vectors."""
    from hyperalign.simulation import simulate_conversation, word_vector

    dyad, truth = simulate_conversation(
        duration=150, n_channels=8, sfreq=128, random_state=3, audio=False
    )
    W = np.stack([word_vector(w, 16) for w in dyad.transcript.words["word"]])
    return dyad, truth, W
