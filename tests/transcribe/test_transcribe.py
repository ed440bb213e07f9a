"""ASR and forced alignment on espeak-ng speech with known words and onsets (Whisper tiny.en).

Measured on this machine (espeak-ng 1.51, faster-whisper 1.2, int8 CPU): see the asserts;
the clips are made of separately synthesized words with 80 ms gaps, so the true onsets are
known to the sample.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import hyperalign as ha
from hyperalign.transcribe import (
    force_align,
    onset_errors,
    transcribe_dyad,
    transcribe_main,
    word_error_rate,
)

SFREQ = 16000

PHRASES_A = ["the weather was lovely this morning", "we walked along the river to the old bridge"]
PHRASES_B = ["then we had coffee near the market", "my sister likes green apples"]


@pytest.fixture(scope="module")
def clip(espeak):
    return espeak(PHRASES_A + PHRASES_B)


@pytest.fixture(scope="module")
def asr(clip, whisper):
    return transcribe_dyad(clip[0], model=whisper, audio_sfreq=SFREQ, speakers=["A"])


def test_asr_word_error_rate_and_onsets(clip, asr, whisper):
    audio, truth = clip
    tr = asr
    wer = word_error_rate(truth, tr)
    err = onset_errors(truth, tr.words)["error"].abs()
    assert wer <= 0.3, f"WER {wer:.3f}"
    assert len(err) >= 0.6 * len(truth)
    assert err.median() <= 0.08, f"median |onset error| {err.median():.3f} s"
    assert (tr.words["speaker"] == "A").all() and (tr.words["timing"] == "asr").all()
    assert tr.words["confidence"].between(0, 1).all()
    # without the energy refinement Whisper's own times are coarser, but still in range
    raw = transcribe_dyad(audio, model=whisper, audio_sfreq=SFREQ, speakers=["A"], refine=None)
    assert onset_errors(truth, raw.words)["error"].abs().median() <= 0.25


def test_force_align_is_at_least_as_good_as_asr(clip, asr, whisper):
    audio, truth = clip
    text = " ".join(PHRASES_A + PHRASES_B)
    fa = force_align(audio, SFREQ, text, model=whisper, speaker="A")
    assert list(fa.words["word"]) == text.split()  # the given words, all of them
    e_fa = onset_errors(truth, fa.words)["error"].abs()
    e_asr = onset_errors(truth, asr.words)["error"].abs()
    assert len(e_fa) == len(truth)
    assert e_fa.median() <= 0.05, f"forced alignment median |onset error| {e_fa.median():.3f}"
    assert e_fa.median() <= e_asr.median() + 0.005
    # with approximate utterance times (phrases) the long-audio route gives the same words
    u = truth.groupby("phrase").agg(onset=("onset", "min"), offset=("offset", "max"),
                                    text=("word", " ".join)).reset_index(drop=True)  # fmt: skip
    u["speaker"] = "A"
    u["onset"] += 0.15  # rough times are enough
    fa2 = force_align(audio, SFREQ, ha.Transcript.from_data_frame(u, kind="utterances"),
                      model=whisper)  # fmt: skip
    assert fa2.n_utterances == len(PHRASES_A + PHRASES_B)
    assert onset_errors(truth, fa2.words)["error"].abs().median() <= 0.05


def test_force_align_errors(clip, whisper):
    audio, truth = clip
    long = np.concatenate([audio] * 3)
    with pytest.raises(ValueError, match="at most 30 s"):
        force_align(long, SFREQ, "hello there", model=whisper)
    u = pd.DataFrame({"onset": [1.0], "offset": [99.0], "speaker": ["A"], "text": ["hi"]})
    with pytest.raises(ValueError, match="audio lasts"):
        force_align(audio, SFREQ, ha.Transcript.from_data_frame(u, kind="utterances"),
                    model=whisper)  # fmt: skip
    u["offset"] = 2.0
    with pytest.raises(ValueError, match="speaker 'Z' not in the transcript"):
        force_align(audio, SFREQ, ha.Transcript.from_data_frame(u, kind="utterances"),
                    model=whisper, speaker="Z")  # fmt: skip
    with pytest.raises(ValueError, match="empty"):
        force_align(audio, SFREQ, "  ", model=whisper)


@pytest.fixture(scope="module")
def two_mics(espeak):
    """A says PHRASES_A, then B says PHRASES_B; each mic hears the partner 12 dB down."""
    a, ta = espeak(PHRASES_A, tail=0.0)
    b, tb = espeak(PHRASES_B, start=0.3, voice="en-us+f3")
    n = len(a) + len(b)
    mic_a = np.zeros(n)
    mic_b = np.zeros(n)
    mic_a[: len(a)] += a
    mic_b[len(a) :] += b
    leak = 10 ** (-12 / 20)
    mic_a_l = mic_a + leak * mic_b
    mic_b_l = mic_b + leak * mic_a
    tb = tb.assign(onset=tb.onset + len(a) / SFREQ, offset=tb.offset + len(a) / SFREQ)
    truth = pd.concat([ta.assign(speaker="A"), tb.assign(speaker="B")], ignore_index=True)
    return mic_a_l, mic_b_l, truth


@pytest.fixture(scope="module")
def dyad_asr(two_mics, whisper):
    mic_a, mic_b, truth = two_mics
    n = len(mic_a)
    raws = [ha.make_participant_raw(np.zeros((1, int(n / SFREQ * 100))), 100.0) for _ in "AB"]
    parts = [ha.Participant("A", raws[0], audio=mic_a, audio_sfreq=SFREQ),
             ha.Participant("B", raws[1], audio=mic_b, audio_sfreq=SFREQ)]  # fmt: skip
    dy = ha.Dyad(parts)
    tr, rep = transcribe_dyad(dy, model=whisper, return_report=True)
    return dy, tr, rep


def test_transcribe_dyad_labels_speakers_and_removes_crosstalk(two_mics, dyad_asr):
    _, _, truth = two_mics
    dy, tr, rep = dyad_asr
    w = tr.words
    for s in "AB":
        wer = word_error_rate(truth[truth.speaker == s], w[w.speaker == s])
        assert wer <= 0.35, f"WER of {s}: {wer:.3f}"
    # the partner's speech leaked into each mic was recognized there and removed
    assert len(rep.crosstalk) >= 5
    assert set(rep.crosstalk["action"]) == {"dropped"}
    assert dy.exclusions.total("word") == len(rep.crosstalk)
    assert not w["crosstalk"].any()
    # words labelled A lie in A's part of the recording, B's in B's
    t_switch = truth.loc[truth.speaker == "B", "onset"].min()
    assert (w.loc[w.speaker == "A", "onset"] < t_switch).mean() >= 0.9
    assert (w.loc[w.speaker == "B", "onset"] > t_switch - 0.3).mean() >= 0.9


def test_transcribe_main_writes_whisperx_json(two_mics, dyad_asr, whisper, tmp_path):
    import soundfile as sf

    mic_a, mic_b, _ = two_mics
    pa, pb = tmp_path / "alice.wav", tmp_path / "bob.wav"
    sf.write(pa, mic_a, SFREQ, subtype="FLOAT")
    sf.write(pb, mic_b, SFREQ, subtype="FLOAT")
    out = tmp_path / "t.json"
    # crosstalk='flag' keeps the cross-talk words: all recognized words are written
    assert transcribe_main([pa, pb], out, crosstalk="flag") == 0
    doc = json.loads(out.read_text())
    _, tr, rep = dyad_asr
    assert len(doc["word_segments"]) == tr.n_words + len(rep.crosstalk)
    assert {"segments", "word_segments"} <= set(doc)
    assert {s["speaker"] for s in doc["segments"]} == {"alice", "bob"}
    from hyperalign.io import read_whisperx_json

    back = read_whisperx_json(out)
    assert back.n_words == len(doc["word_segments"])
    assert transcribe_main([tmp_path / "missing.wav"], out) == 2
    assert transcribe_main([pa, pb], out, speakers=["x"]) == 2


def test_transcribe_bad_input(whisper):
    x = np.zeros(16000)
    with pytest.raises(ValueError, match="backend must be one of"):
        transcribe_dyad(x, audio_sfreq=SFREQ, backend="vosk")
    with pytest.raises(ValueError, match="audio_sfreq is required"):
        transcribe_dyad(x)
    with pytest.raises(ValueError, match="one label per microphone"):
        transcribe_dyad([x, x], audio_sfreq=SFREQ, speakers=["A"])
    try:
        import whisperx  # noqa: F401
    except ImportError:
        noise = 0.01 * np.random.default_rng(0).standard_normal(16000)  # silence is refused
        with pytest.raises(ImportError, match="whisperx"):
            transcribe_dyad(noise, audio_sfreq=SFREQ, backend="whisperx")
    with pytest.raises(ValueError, match=r"the audio of 'S1' \(-inf dB re full scale\) is silent"):
        transcribe_dyad(x, audio_sfreq=SFREQ)


def test_force_align_dyad_retimes_rough_transcript(two_mics, whisper):
    """A transcript with interpolated (rough) word times is re-timed on each microphone."""
    from hyperalign.transcribe import force_align_dyad

    mic_a, mic_b, truth = two_mics
    utt = (
        truth.groupby(["speaker", "phrase"])
        .agg(onset=("onset", "min"), offset=("offset", "max"), text=("word", " ".join))
        .reset_index()
    )
    rough = ha.Transcript.from_data_frame(utt, kind="utterances", speakers=["A", "B"])
    n = int(len(mic_a) / SFREQ * 100)
    raws = [ha.make_participant_raw(np.zeros((1, n)), 100.0) for _ in "AB"]
    parts = [ha.Participant("A", raws[0], audio=mic_a, audio_sfreq=SFREQ),
             ha.Participant("B", raws[1], audio=mic_b, audio_sfreq=SFREQ)]  # fmt: skip
    dy = ha.Dyad(parts, rough)
    fa = force_align_dyad(dy, model=whisper)
    assert fa.n_words == len(truth) and fa.n_utterances == rough.n_utterances
    truth_sorted = truth.sort_values("onset").reset_index(drop=True)
    e_rough = onset_errors(truth_sorted, rough.words)["error"].abs().median()
    e_fa = onset_errors(truth_sorted, fa.words)["error"].abs().median()
    assert e_fa <= 0.05 and e_fa < e_rough
