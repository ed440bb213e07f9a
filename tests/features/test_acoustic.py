"""Acoustic features recover known properties of synthetic signals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import hyperalign as ha
from hyperalign.features.acoustic import (
    AcousticError,
    compute_acoustic_features,
    compute_acoustic_timeseries,
)

SR = 16000


def _harmonic(f0, n, sr=SR, n_harm=8):
    """Harmonic complex with instantaneous F0 ``f0`` (scalar or per-sample array)."""
    f0 = np.broadcast_to(np.asarray(f0, float), (n,))
    ph = 2 * np.pi * np.cumsum(f0) / sr
    return sum(np.sin(k * ph) / k for k in range(1, n_harm + 1))


def _dyad(audio_a, audio_b, words, *, sr=SR, dur=None, neural_sfreq=100.0, seed=0):
    rng = np.random.default_rng(seed)
    if dur is None:
        dur = len(audio_a) / sr
    raws = [
        ha.make_participant_raw(
            rng.standard_normal((2, int(dur * neural_sfreq))) * 1e-6, neural_sfreq
        )
        for _ in range(2)
    ]
    parts = [
        ha.Participant("A", raws[0], audio=audio_a, audio_sfreq=sr),
        ha.Participant("B", raws[1], audio=audio_b, audio_sfreq=sr),
    ]
    return ha.Dyad(parts, ha.Transcript(pd.DataFrame(words), speakers=["A", "B"]), dyad_id="t")


@pytest.fixture(scope="module")
def two_turns():
    """A speaks 1-4 s (120 Hz, amplitude 0.1), B speaks 5-8 s (200 Hz, amplitude 0.2)."""
    rng = np.random.default_rng(1)
    n = 10 * SR
    t = np.arange(n) / SR
    a = 1e-4 * rng.standard_normal(n)
    b = 1e-4 * rng.standard_normal(n)
    ma = (t >= 1) & (t < 4)
    mb = (t >= 5) & (t < 8)
    a[ma] += 0.1 * _harmonic(120.0, n)[ma]
    b[mb] += 0.2 * _harmonic(200.0, n)[mb]
    words = {
        "onset": [1.0, 2.0, 3.0, 5.0, 6.0, 7.0],
        "offset": [1.9, 2.9, 4.0, 5.9, 6.9, 8.0],
        "word": ["one", "two", "three", "four", "five", "six"],
        "speaker": ["A"] * 3 + ["B"] * 3,
    }
    return _dyad(a, b, words)


def test_f0_intensity_known_values(two_turns):
    df = compute_acoustic_features(two_turns)
    assert list(df["utterance_id"]) == [0, 1]
    a, b = df.iloc[0], df.iloc[1]
    assert abs(a["f0_mean"] - 120) / 120 < 0.01
    assert abs(b["f0_mean"] - 200) / 200 < 0.01
    assert a["f0_mean_st"] == pytest.approx(12 * np.log2(a["f0_mean"] / 100), abs=1e-3)
    # amplitude x2 -> +6.02 dB
    assert b["intensity_db"] - a["intensity_db"] == pytest.approx(20 * np.log10(2), abs=0.1)
    assert a["rate_wps"] == pytest.approx(1.0)
    assert a["voiced_prop"] > 0.9 and a["silence_prop"] < 0.05
    assert df.attrs["report"]["n_unvoiced"] == 0
    for c in ["env_mean", "spectral_centroid", "spectral_slope", "mfcc1", "mfcc13"]:
        assert np.isfinite(df[c]).all(), c


def test_f0_contour_tracked_by_both_methods():
    """A gliding F0 (110 -> 150 Hz): per-word means follow the contour within 1 %."""
    n = 4 * SR
    t = np.arange(n) / SR
    f0 = 110 + 10 * t  # 110 Hz at 0 s, 150 Hz at 4 s
    a = 0.1 * _harmonic(f0, n) + 1e-4 * np.random.default_rng(2).standard_normal(n)
    b = np.zeros(n)
    words = {
        "onset": [0.5, 1.5, 2.5],
        "offset": [1.0, 2.0, 3.0],
        "word": ["a", "b", "c"],
        "speaker": ["A"] * 3,
    }
    d = _dyad(a, b, words)
    expected = 110 + 10 * np.array([0.75, 1.75, 2.75])
    for method in ("praat", "pyin"):
        df = compute_acoustic_features(d, level="word", f0_method=method)
        assert list(df["word"]) == ["a", "b", "c"]
        rel = np.abs(df["f0_mean"].to_numpy() - expected) / expected
        assert rel.max() < 0.01, (method, df["f0_mean"].tolist())


def test_envelope_recovers_am_modulation():
    """Amplitude-modulated noise: the envelope time series tracks the modulator (r > 0.9)."""
    rng = np.random.default_rng(3)
    n = 6 * SR
    t = np.arange(n) / SR
    mod = 1 + 0.8 * np.sin(2 * np.pi * 3 * t) * np.sin(2 * np.pi * 0.4 * t)
    a = 0.1 * mod * rng.standard_normal(n)
    words = {"onset": [0.5], "offset": [5.5], "word": ["x"], "speaker": ["A"]}
    d = _dyad(a, np.zeros(n), words, neural_sfreq=100.0)
    for kind in ("hilbert", "rms"):
        raw = compute_acoustic_timeseries(d, "A", features=("envelope",), envelope=kind)
        env = raw.get_data()[0]
        true = np.interp(raw.times, t, mod)
        sl = slice(50, -50)  # skip filter edges
        r = np.corrcoef(env[sl], true[sl])[0, 1]
        assert r > 0.9, (kind, r)


def test_syllable_rate_recovered():
    """Hann-shaped 'syllables' at 4 per second give rate_sps close to 4."""
    rng = np.random.default_rng(4)
    n = 8 * SR
    a = 1e-4 * rng.standard_normal(n)
    syl_len = int(0.15 * SR)
    win = np.hanning(syl_len)
    onsets = np.arange(1.0, 6.0, 0.25)  # 20 syllables in 5 s
    tone = 0.1 * _harmonic(130.0, n)
    for o in onsets:
        i = int(o * SR)
        a[i : i + syl_len] += tone[i : i + syl_len] * win
    words = {
        "onset": [1.0, 3.5],
        "offset": [3.5, 6.0],
        "word": ["ba", "da"],
        "speaker": ["A", "A"],
    }
    d = _dyad(a, np.zeros(n), words)
    df = compute_acoustic_features(d, level="word")
    assert df["rate_sps"].to_numpy() == pytest.approx([4.0, 4.0], abs=0.41)
    assert df["n_syllables"].sum() == pytest.approx(20, abs=1)


def test_pauses_counted():
    n = 6 * SR
    t = np.arange(n) / SR
    a = 1e-4 * np.random.default_rng(5).standard_normal(n)
    speech = ((t >= 1) & (t < 2)) | ((t >= 2.5) & (t < 3.5)) | ((t >= 3.8) & (t < 4.5))
    a[speech] += 0.1 * _harmonic(150.0, n)[speech]
    words = {
        "onset": [1.0, 2.5, 3.8],
        "offset": [2.0, 3.5, 4.5],
        "word": ["a", "b", "c"],
        "speaker": ["A"] * 3,
    }
    d = _dyad(a, np.zeros(n), words)
    # one utterance (pause threshold 0.5 s): pauses of 0.5 s and 0.3 s inside it
    df = compute_acoustic_features(d)
    assert len(df) == 1
    row = df.iloc[0]
    assert row["n_pauses"] == 2
    assert row["pause_mean"] == pytest.approx(0.4, abs=0.05)
    assert row["silence_prop"] == pytest.approx(0.8 / 3.5, abs=0.04)


def test_unvoiced_utterance_kept_with_nan_f0(caplog):
    rng = np.random.default_rng(6)
    n = 5 * SR
    t = np.arange(n) / SR
    a = 1e-4 * rng.standard_normal(n)
    m1 = (t >= 0.5) & (t < 1.5)
    m2 = (t >= 3) & (t < 4)
    a[m1] += 0.1 * _harmonic(140.0, n)[m1]
    a[m2] += 0.05 * rng.standard_normal(int(m2.sum()))  # whispered: noise only
    words = {
        "onset": [0.5, 3.0],
        "offset": [1.5, 4.0],
        "word": ["voiced", "whisper"],
        "speaker": ["A", "A"],
    }
    d = _dyad(a, np.zeros(n), words)
    with caplog.at_level("WARNING", logger="hyperalign"):
        df = compute_acoustic_features(d)
    assert len(df) == 2
    assert np.isfinite(df.loc[0, "f0_mean"]) and np.isnan(df.loc[1, "f0_mean"])
    assert df.attrs["report"]["n_unvoiced"] == 1 and df.attrs["report"]["unvoiced"] == [1]
    assert "without a voiced frame" in caplog.text
    assert np.isfinite(df.loc[1, "intensity_db"])


def test_timeseries_shapes_sources_and_xarray(two_turns):
    raw = compute_acoustic_timeseries(two_turns, "A", source="both", n_mels=20)
    n_ch = 2 * (1 + 20 + 1 + 1)
    assert raw.get_data().shape == (n_ch, two_turns["A"].raw.n_times)
    assert raw.info["sfreq"] == two_turns.sfreq
    assert "own_f0" in raw.ch_names and "heard_f0" in raw.ch_names
    data = raw.get_data(picks=["own_f0", "heard_f0"])
    times = raw.times
    own = data[0][(times > 1.5) & (times < 3.5)]
    heard = data[1][(times > 5.5) & (times < 7.5)]
    assert np.median(own) == pytest.approx(120, rel=0.01)
    assert np.median(heard) == pytest.approx(200, rel=0.01)
    xa = compute_acoustic_timeseries(
        two_turns, "B", features=("intensity",), sfreq=50.0, source="heard", output="xarray"
    )
    assert xa.dims == ("feature", "time") and xa.shape == (1, 500)
    assert list(xa.coords["feature"].values) == ["heard_intensity"]
    ts = compute_acoustic_features(two_turns, level="timeseries")
    assert set(ts.columns) == {"time", "participant", "envelope", "f0", "intensity"}
    assert len(ts) == 2 * two_turns["A"].raw.n_times


def test_timeseries_anti_aliased():
    """A 40 Hz envelope modulation must not alias into a 10 Hz output rate."""
    rng = np.random.default_rng(7)
    n = 6 * SR
    t = np.arange(n) / SR
    a = 0.1 * (1 + 0.9 * np.sin(2 * np.pi * 40 * t)) * rng.standard_normal(n)
    words = {"onset": [0.5], "offset": [5.5], "word": ["x"], "speaker": ["A"]}
    d = _dyad(a, np.zeros(n), words)
    raw = compute_acoustic_timeseries(d, "A", features=("envelope",), sfreq=10.0, env_lowpass=45)
    env = raw.get_data()[0][5:-5]
    assert env.std() / env.mean() < 0.05


# ---------------------------------------------------------------------- errors
def _simple(n=3 * SR, **kw):
    a = 0.1 * _harmonic(120.0, n)
    words = {"onset": [0.5], "offset": [1.5], "word": ["x"], "speaker": ["A"]}
    words.update(kw)
    return a, words


def test_missing_audio_error():
    a, words = _simple()
    d = _dyad(a, None, words)
    d = ha.Dyad([d["A"], ha.Participant("B", d["B"].raw)], d.transcript)
    words2 = {"onset": [0.5], "offset": [1.5], "word": ["x"], "speaker": ["B"]}
    d.set_transcript(ha.Transcript(pd.DataFrame(words2), speakers=["A", "B"]))
    with pytest.raises(AcousticError, match="participant 'B' .* has no audio"):
        compute_acoustic_features(d)
    with pytest.raises(AcousticError, match="has no audio"):
        compute_acoustic_timeseries(d, "A", source="heard")


def test_audio_shorter_than_transcript_error():
    a, words = _simple()
    d = _dyad(a, np.zeros_like(a), words)
    d["A"].audio = a[: int(1.0 * SR)]  # truncated after the dyad was built
    with pytest.raises(AcousticError, match="audio is shorter than the transcript"):
        compute_acoustic_features(d)


def test_wrong_sampling_rate_errors():
    a, words = _simple()
    d = _dyad(a, np.zeros_like(a), words)
    d["A"].audio_sfreq = 4000.0  # claims 4 kHz: too low
    with pytest.raises(AcousticError, match="audio_sfreq of participant 'A' is 4000 Hz"):
        compute_acoustic_features(d)
    d["A"].audio_sfreq = 8000.0  # 16 kHz audio read as 8 kHz: lasts twice the recording
    d["A"].audio = np.tile(a, 2)
    with pytest.raises(AcousticError, match="audio_sfreq is probably wrong"):
        compute_acoustic_features(d)


def test_empty_utterance_error_and_nan_option():
    a, _ = _simple()
    words = {"onset": [0.5, 2.5], "offset": [1.5, 2.5], "word": ["x", "y"], "speaker": ["A"] * 2}
    d = _dyad(a, np.zeros_like(a), words)
    with pytest.raises(AcousticError, match=r"1 empty utterance\(s\).*utterance_id 1"):
        compute_acoustic_features(d)
    df = compute_acoustic_features(d, on_empty="nan")
    assert len(df) == 2 and np.isnan(df.loc[1, "intensity_db"])
    assert d.exclusions.total("utterance") == 1


def test_bad_options():
    a, words = _simple()
    d = _dyad(a, np.zeros_like(a), words)
    with pytest.raises(ValueError, match="level must be one of"):
        compute_acoustic_features(d, level="sentence")
    with pytest.raises(ValueError, match="f0_method must be one of"):
        compute_acoustic_features(d, f0_method="crepe")
    with pytest.raises(ValueError, match="features must be one of"):
        compute_acoustic_timeseries(d, "A", features=("mfcc",))
    with pytest.raises(ValueError, match="source must be one of"):
        compute_acoustic_timeseries(d, "A", source="partner")


@pytest.mark.parametrize("sr,n_fft", [(16000, 512), (44100, 2048), (8000, 256)])
def test_mel_filterbank_matches_librosa(sr, n_fft):
    librosa = pytest.importorskip("librosa")
    from hyperalign.features.acoustic import mel_filterbank

    ours = mel_filterbank(sr, n_fft, 80, fmax=min(8000.0, sr / 2))
    ref = librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=80, fmax=min(8000.0, sr / 2))
    np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-8)
