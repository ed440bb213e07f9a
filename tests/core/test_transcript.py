"""Transcript: segmentation, flags, validation errors (asserted by message), round trips."""

import numpy as np
import pandas as pd
import pytest

from hyperalign import Transcript, TranscriptError


def test_utterances_from_words(small_words):
    tr = Transcript(small_words, speakers=["A", "B"])
    utt = tr.utterances
    assert list(utt["speaker"]) == ["A", "B", "A", "A"]
    assert list(utt["n_words"]) == [3, 3, 1, 2]
    assert utt["text"].iloc[0] == "hi there friend"
    # 'mhm' inside B's utterance: overlap + backchannel, kept (not lost), does not take the floor
    bc = utt.iloc[2]
    assert bc["backchannel"] and bc["overlap"]
    assert list(utt["turn"]) == [0, 1, 1, 2]
    assert tr.n_words == len(small_words)
    assert set(tr.words["utterance_id"]) == set(utt["utterance_id"])


def test_pause_threshold_splits():
    w = pd.DataFrame(
        {
            "onset": [0.0, 0.3, 2.0],
            "offset": [0.2, 0.5, 2.2],
            "word": ["a", "b", "c"],
            "speaker": ["A"] * 3,
        }
    )
    assert Transcript(w, pause_threshold=0.5).n_utterances == 2
    assert Transcript(w, pause_threshold=2.0).n_utterances == 1


def test_speaker_change_in_gap_splits():
    w = pd.DataFrame(
        {
            "onset": [0.0, 0.5, 0.9],
            "offset": [0.3, 0.8, 1.1],
            "word": ["one", "two", "three"],
            "speaker": ["A", "B", "A"],
        }
    )
    assert Transcript(w, pause_threshold=5).n_utterances == 3


def test_validation_lists_every_problem():
    w = pd.DataFrame(
        {
            "onset": [0.0, 1.0, np.nan, 5.0, 2.0],
            "offset": [0.5, 0.8, 3.0, 12.0, 2.5],
            "word": ["ok", "neg", "nan", "late", ""],
            "speaker": ["A", "A", "A", "C", "B"],
        }
    )
    with pytest.raises(TranscriptError) as err:
        Transcript(w, speakers=["A", "B"], duration=10.0, source="words.tsv")
    msg = str(err.value)
    assert "in words.tsv" in msg
    assert "row 1 (offset): negative duration" in msg
    assert "row 2 (onset): expected a finite time" in msg
    assert "row 3 (speaker): unknown speaker 'C'" in msg
    assert "row 3 (offset): 12.000 s is past the end of the recording" in msg
    assert "row 4 (word): empty word" in msg
    assert len(err.value.problems) >= 5


def test_non_monotonic_and_overlap():
    w = pd.DataFrame(
        {"onset": [1.0, 0.0], "offset": [1.2, 0.2], "word": ["b", "a"], "speaker": ["A", "A"]}
    )
    with pytest.raises(TranscriptError, match="not monotonic"):
        Transcript(w)
    w2 = pd.DataFrame(
        {"onset": [0.0, 0.1], "offset": [0.5, 0.3], "word": ["a", "b"], "speaker": ["A", "A"]}
    )
    with pytest.raises(TranscriptError, match="before the previous word of that speaker ends"):
        Transcript(w2)
    tr = Transcript(w2, on_overlap="clip")
    assert tr.words["offset"].iloc[0] == pytest.approx(0.1)
    assert len(tr.fixes) == 1


def test_missing_columns_and_bad_args():
    with pytest.raises(TranscriptError, match="lacks required column"):
        Transcript(pd.DataFrame({"onset": [0.0]}))
    with pytest.raises(ValueError, match="segmentation must be"):
        Transcript(pd.DataFrame(columns=["onset", "offset", "word", "speaker"]), segmentation="x")
    with pytest.raises(TypeError, match="pandas DataFrame"):
        Transcript([1, 2])


def test_round_trip_data_frame(small_words):
    tr = Transcript(small_words)
    again = Transcript.from_data_frame(tr.to_data_frame("words"), segmentation="given")
    pd.testing.assert_frame_equal(again.utterances, tr.utterances)
    u = Transcript.from_data_frame(tr.to_data_frame("utterances"), kind="utterances")
    assert u.n_utterances == tr.n_utterances
    assert list(u.utterances["text"]) == list(tr.utterances["text"])
    assert (u.words["timing"] == "interpolated").all()
    with pytest.raises(ValueError, match="kind must be"):
        tr.to_data_frame("turns")


def test_utterance_rows_errors():
    df = pd.DataFrame({"onset": [0.0], "offset": [1.0], "speaker": ["A"], "text": [""]})
    with pytest.raises(TranscriptError, match="utterance is empty"):
        Transcript.from_data_frame(df, kind="utterances")


def test_crop_shift_rename(small_words):
    tr = Transcript(small_words)
    c = tr.crop(1.0, 3.0)
    assert c.words["onset"].min() >= 0 and c.end <= 2.0
    assert c.n_words == 4
    s = tr.shift(2.0)
    assert s.words["onset"].iloc[0] == pytest.approx(2.0)
    r = tr.rename_speakers({"A": "P1"})
    assert set(r.words["speaker"]) == {"P1", "B"}
    assert "P1" in r.speakers
    assert "Transcript" in repr(tr)
