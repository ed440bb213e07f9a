"""Shared test fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` (real recordings); skips when absent (a user's clone)."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real recordings not found at {SHARED_DATA} (only in the project workspace)")
    return SHARED_DATA


@pytest.fixture
def small_words() -> pd.DataFrame:
    """A tiny two-speaker word table with a backchannel and an overlap."""
    return pd.DataFrame(
        {
            "onset": [0.0, 0.3, 0.6, 1.5, 1.7, 2.0, 2.1, 3.5, 3.8],
            "offset": [0.25, 0.55, 0.9, 1.65, 1.9, 2.3, 2.25, 3.7, 4.0],
            "word": ["hi", "there", "friend", "so", "what", "now", "mhm", "good", "question"],
            "speaker": ["A", "A", "A", "B", "B", "B", "A", "A", "A"],
            "confidence": [0.9] * 9,
        }
    )


@pytest.fixture
def small_dyad(small_words):
    import hyperalign as ha

    rng = np.random.default_rng(0)
    raws = [
        ha.make_participant_raw(rng.standard_normal((4, 1000)) * 1e-6, 100.0) for _ in range(2)
    ]
    tr = ha.Transcript(small_words, speakers=["A", "B"])
    return ha.Dyad([ha.Participant("A", raws[0]), ha.Participant("B", raws[1])], tr, dyad_id="d01")


@pytest.fixture(scope="session")
def planted_layerwise_config():
    """A factory of the small planted layer-wise config (2 dyads x 60 s x 8 channels).

    The simulator's 7 derived layers; planted: temporal -> layer_1 and occipital -> layer_3
    (listener), parietal -> parietal coupling through layer_3 at speaker -0.25 s / listener
    +0.25 s. ``make(name, n_resamples)`` returns a fresh dict (``n_resamples``: the
    hierarchy's and the group coupling's bootstrap and permutation counts).
    """

    def make(name: str, n_resamples: int, *, n_null: int = 5) -> dict:
        n = int(n_resamples)
        return {
            "analysis": "layerwise_encoding",
            "name": name,
            "data": {"n_dyads": 2, "duration": 60.0, "n_channels": 8, "sfreq": 128.0,
                     "random_state": 3},
            "simulation": {
                "layer_source": "simulated",
                "layer_hierarchy": [
                    {"roi": "temporal", "layer": "layer_1", "lag": 0.25, "size": 2.0},
                    {"roi": "occipital", "layer": "layer_3", "lag": 0.25, "size": 2.0},
                ],
                "model_coupling": [
                    {"speaker_roi": "parietal", "listener_roi": "parietal", "layer": "layer_3",
                     "speaker_lag": -0.25, "listener_lag": 0.25, "size": 2.0},
                ],
            },
            "features": {
                "text_model": {"name": "simulated", "layers": "all"},
                "speech_model": None,
                "controls": ["static", "random", "shuffled"],
            },
            "encoding": {"lags": {"start": -0.5, "stop": 0.75, "step": 0.25}, "cv": 4,
                         "inner_cv": 3},
            "hierarchy": {"order": ["temporal", "occipital"], "n_boot": n, "n_permutations": n},
            "coupling": {"layer": "layer_3", "nuisance": ["word_rate"], "n_permutations": n_null,
                         "lags": {"start": -0.5, "stop": 0.5, "step": 0.25},
                         "group_permutations": n, "n_boot": n},
            "execution": {"n_jobs": 1},
        }  # fmt: skip

    return make
