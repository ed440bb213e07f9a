"""Dyad and Participant containers."""

import sys

import numpy as np
import pytest

import hyperalign as ha


def _raw(sfreq=100.0, n=1000, nch=3):
    return ha.make_participant_raw(np.zeros((nch, n)), sfreq)


def test_repr_copy_summary(small_dyad):
    r = repr(small_dyad)
    assert "A_S1" in r and "B_S2" in r and "d01" in r
    c = small_dyad.copy()
    c.participants[0].raw._data[:] = 1
    assert small_dyad.participants[0].raw.get_data().max() < 1
    s = small_dyad.summary()
    assert list(s["suffix"]) == ["_S1", "_S2"]
    assert s["n_words"].sum() == small_dyad.transcript.n_words
    assert small_dyad.other("A").id == "B"
    assert small_dyad.suffix("B") == "_S2"
    with pytest.raises(KeyError, match="no participant 'Z'"):
        small_dyad["Z"]


def test_crop_keeps_everything_consistent(small_words):
    audio = np.random.default_rng(0).standard_normal(16000 * 10)
    p1 = ha.Participant("A", _raw(), audio=audio, audio_sfreq=16000)
    p2 = ha.Participant("B", _raw(), audio=audio.copy(), audio_sfreq=16000)
    d = ha.Dyad([p1, p2], ha.Transcript(small_words), dyad_id="x")
    d.crop(1.0, 4.0)
    assert d.duration == pytest.approx(3.0)
    assert len(d["A"].audio) == 3 * 16000
    assert d.transcript.words["onset"].min() >= 0
    assert d.transcript.end <= 3.0
    assert d.exclusions.total("word") == 3  # "hi there friend" before 1 s


def test_bad_input_messages(small_words):
    with pytest.raises(ValueError, match="sampling rates differ"):
        ha.Dyad([ha.Participant("A", _raw(100)), ha.Participant("B", _raw(200))])
    with pytest.raises(ValueError, match="exactly 2 participants"):
        ha.Dyad([ha.Participant("A", _raw())])
    with pytest.raises(TypeError, match="must be an mne.io.Raw"):
        ha.Participant("A", np.zeros((2, 10)))
    with pytest.raises(ValueError, match="without a valid audio_sfreq"):
        ha.Participant("A", _raw(), audio=np.zeros(10))
    short = ha.Participant("A", _raw(n=200))
    with pytest.raises(ha.TranscriptError, match="past the end of the recording"):
        ha.Dyad([short, ha.Participant("B", _raw(n=200))], ha.Transcript(small_words))
    tr = ha.Transcript(small_words).rename_speakers({"A": "Q"})
    with pytest.raises(ha.TranscriptError, match="unknown speaker 'Q'"):
        ha.Dyad([ha.Participant("A", _raw()), ha.Participant("B", _raw())], tr)
    pa = ha.Participant("A", _raw(), audio=np.zeros(1000), audio_sfreq=1000)
    with pytest.raises(ValueError, match="the audio of 'A' lasts 1.000 s"):
        ha.Dyad([pa, ha.Participant("B", _raw())], ha.Transcript(small_words))


def test_merged_raw_hypyp_suffixes(small_dyad):
    m = small_dyad.merged_raw()
    assert m.ch_names[:4] == [f"ch0{i}_S1" for i in range(4)]
    assert m.ch_names[4:] == [f"ch0{i}_S2" for i in range(4)]


def test_import_is_light():
    import subprocess

    code = (
        "import sys, hyperalign; "
        "bad=[m for m in ('torch','transformers','statsmodels','sentence_transformers') "
        "if m in sys.modules]; print(bad); sys.exit(1 if bad else 0)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_lazy_public_api_resolves_without_heavy_imports():
    import subprocess

    code = (
        "import sys, hyperalign as ha\n"
        "for n in ha._LAZY: getattr(ha, n)\n"
        "bad=[m for m in ('torch','transformers','statsmodels') if m in sys.modules]\n"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
