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
