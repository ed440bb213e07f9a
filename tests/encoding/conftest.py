"""Fixtures for the encoding tests: small simulated dyads and word vectors."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(scope="module")
def sim_dyad():
    """A 240-s simulated dyad (16 EEG channels, 100 Hz) and its planted word vectors."""
    from hyperalign.simulation import simulate_conversation, word_vector

    dyad, truth = simulate_conversation(
        duration=240, n_channels=16, sfreq=100, random_state=0, audio=False
    )
    W = np.stack([word_vector(w, 16) for w in dyad.transcript.words["word"]])
    return dyad, truth, W
