"""Acoustic features on real synthetic speech (espeak-ng), checked against Praat itself."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest

import hyperalign as ha
from hyperalign.features.acoustic import compute_acoustic_features, compute_acoustic_timeseries

pytestmark = pytest.mark.skipif(
    shutil.which("espeak-ng") is None, reason="espeak-ng not installed (apt install espeak-ng)"
)


@pytest.fixture(scope="module")
def speech(tmp_path_factory):
    import soundfile as sf

    wav = tmp_path_factory.mktemp("espeak") / "s.wav"
    text = "hello there, how are you doing today? I was thinking about the weather."
    subprocess.run(["espeak-ng", "-w", str(wav), text], check=True, capture_output=True)
    x, sr = sf.read(wav)
    rng = np.random.default_rng(0)
    x = np.concatenate([np.zeros(int(0.5 * sr)), x, np.zeros(int(0.5 * sr))])
    x = x + 1e-4 * rng.standard_normal(len(x))
    return x, float(sr)


def _dyad(x, sr, spans):
    dur = len(x) / sr
    raws = [ha.make_participant_raw(np.zeros((1, int(dur * 100))), 100.0) for _ in "AB"]
    words = pd.DataFrame(
        {
            "onset": [s[0] for s in spans],
            "offset": [s[1] for s in spans],
            "word": [f"w{i}" for i in range(len(spans))],
            "speaker": "A",
        }
    )
    parts = [
        ha.Participant("A", raws[0], audio=x, audio_sfreq=sr),
        ha.Participant("B", raws[1], audio=np.zeros_like(x), audio_sfreq=sr),
    ]
    return ha.Dyad(parts, ha.Transcript(words, speakers=["A", "B"], pause_threshold=0.05))


def test_intensity_and_f0_match_praat(speech):
    """intensity_db equals Praat's energy-averaged Intensity; F0 equals Praat's Pitch."""
    import parselmouth
    from parselmouth.praat import call

    x, sr = speech
    spans = [(0.6, 1.6), (1.8, 2.9), (3.0, 4.4)]
    df = compute_acoustic_features(_dyad(x, sr, spans), level="word")
    snd = parselmouth.Sound(x - x.mean(), sr)
    inten = snd.to_intensity(minimum_pitch=75.0)
    pitch = snd.to_pitch_ac(time_step=0.01, pitch_floor=75.0, pitch_ceiling=500.0)
    for (a, b), row in zip(spans, df.itertuples()):
        ref_db = call(inten, "Get mean", a, b, "energy")
        assert row.intensity_db == pytest.approx(ref_db, abs=0.5)
        f = pitch.selected_array["frequency"]
        t = pitch.xs()
        ref_f0 = f[(t >= a) & (t < b) & (f > 0)].mean()
        assert row.f0_mean == pytest.approx(ref_f0, rel=0.01)


def test_praat_and_pyin_agree_on_speech(speech):
    x, sr = speech
    d = _dyad(x, sr, [(0.6, 4.4)])
    praat = compute_acoustic_features(d, f0_method="praat").iloc[0]
    pyin = compute_acoustic_features(d, f0_method="pyin").iloc[0]
    assert pyin["f0_mean"] == pytest.approx(praat["f0_mean"], rel=0.05)
    assert 2.0 < praat["rate_sps"] < 8.0  # plausible syllable rate of read speech
    assert praat["voiced_prop"] > 0.3


def test_timeseries_envelope_follows_speech(speech):
    x, sr = speech
    d = _dyad(x, sr, [(0.6, 4.4)])
    raw = compute_acoustic_timeseries(d, "A", features=("envelope", "intensity"))
    env, inten = raw.get_data()
    t = raw.times
    speaking = (t > 0.7) & (t < 4.3)
    silent = t < 0.4
    assert env[speaking].mean() > 10 * env[silent].mean()
    assert inten[speaking].mean() > inten[silent].mean() + 20
