"""Speaking/listening masks, annotations and speech-locked epochs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import hyperalign as ha
from hyperalign.align import (
    add_speech_annotations,
    listening_masks,
    make_dyad_epochs,
    make_utterance_epochs,
    make_word_epochs,
    overlap_masks,
    speaking_masks,
)


def test_speaking_masks_exact(small_dyad):
    sp = speaking_masks(small_dyad, level="words")
    t = np.arange(1000) / 100.0
    assert set(sp) == {"A", "B"}
    assert sp["A"].shape == (1000,) and sp["A"].dtype == bool
    w = small_dyad.transcript.words
    for pid in "AB":
        ww = w[w.speaker == pid]
        expect = (
            (t[:, None] >= ww.onset.to_numpy() - 1e-9) & (t[:, None] < ww.offset.to_numpy() - 1e-9)
        ).any(1)
        np.testing.assert_array_equal(sp[pid], expect)
    lis = listening_masks(small_dyad, level="words", exclusive=False)
    np.testing.assert_array_equal(lis["A"], sp["B"])
    lis_x = listening_masks(small_dyad, level="words")
    assert not (lis_x["A"] & sp["A"]).any()
    ov = overlap_masks(small_dyad, level="words")
    # 'mhm' of A (2.1-2.25) during 'now' of B (2.0-2.3)
    assert ov["A"].sum() == 15 and np.array_equal(ov["A"], ov["B"])


def test_utterance_masks_cover_pauses(small_dyad):
    sp = speaking_masks(small_dyad)
    u = small_dyad.transcript.utterances
    first = u.iloc[0]
    assert sp[first.speaker][int(first.onset * 100) : int(first.offset * 100)].all()
    filled = speaking_masks(small_dyad, level="words", fill_gaps=0.1)
    assert filled["A"].sum() >= speaking_masks(small_dyad, level="words")["A"].sum()


def test_add_speech_annotations(small_dyad):
    small_dyad["A"].raw.set_annotations(
        ha.make_participant_raw(np.zeros((1, 10)), 10.0).annotations
    )
    import mne

    small_dyad["A"].raw.annotations.append(0.0, 0.1, "BAD_keep")
    add_speech_annotations(small_dyad, level="words")
    add_speech_annotations(small_dyad, level="words")  # idempotent: replaces its own
    ann = small_dyad["A"].raw.annotations
    desc = list(ann.description)
    assert "BAD_keep" in desc
    assert {"speaking", "listening", "overlap"} <= set(desc)
    tot = {
        d: ann.duration[ann.description == d].sum() for d in ("speaking", "listening", "overlap")
    }
    assert tot["overlap"] == pytest.approx(0.15)
    sp = speaking_masks(small_dyad, level="words")
    assert tot["speaking"] + tot["overlap"] == pytest.approx(sp["A"].sum() / 100)
    assert isinstance(ann, mne.Annotations)


def test_word_epochs_metadata_and_edges(small_dyad):
    ep = make_word_epochs(small_dyad, "A", tmin=-0.2, tmax=0.5, role="speaker")
    md = ep.metadata
    # A has 6 words; 'hi' at 0.0 lacks 0.2 s before -> excluded and counted
    assert len(ep) == 5
    assert small_dyad.exclusions.total("word") == 1
    assert list(md["word"]) == ["there", "friend", "mhm", "good", "question"]
    assert (md["role"] == "speaker").all() and (md["listener"] == "B").all()
    for c in ("word_index", "utterance_id", "speaker", "onset", "turn", "backchannel"):
        assert c in md.columns
    np.testing.assert_allclose(ep.events[:, 0] / 100.0, md["onset"].to_numpy(), atol=0.005)
    assert ep.get_data().shape == (5, 4, 71)
    both = make_word_epochs(small_dyad, "B", tmin=-0.1, tmax=0.3, role="both")
    assert set(both.metadata["role"]) == {"speaker", "listener"}
    assert set(both.event_id) == {"word/speaker", "word/listener"}
    lis = make_word_epochs(small_dyad, "B", tmin=-0.1, tmax=0.3, role="listener")
    assert (lis.metadata["speaker"] == "A").all() and (lis.metadata["role"] == "listener").all()


def test_utterance_epochs(small_dyad):
    ep = make_utterance_epochs(small_dyad, "B", tmin=-0.5, tmax=1.0, exclude_backchannels=True)
    md = ep.metadata
    assert "text" in md.columns and not md["backchannel"].any()
    u = small_dyad.transcript.utterances
    assert len(ep) + small_dyad.exclusions.total("utterance") == len(u)
    ep2 = make_utterance_epochs(small_dyad, "B", tmin=-1.0, tmax=0.2, lock="offset")
    np.testing.assert_allclose(ep2.events[:, 0] / 100.0, ep2.metadata["offset"], atol=0.005)


def test_epoch_errors(small_dyad):
    with pytest.raises(ValueError, match="role must be one of"):
        make_word_epochs(small_dyad, "A", role="talker")
    with pytest.raises(ValueError, match="pid must be one of"):
        make_word_epochs(small_dyad, "Z")
    with pytest.raises(ValueError, match="tmax must be > tmin"):
        make_word_epochs(small_dyad, "A", tmin=0.5, tmax=0.1)
    # a transcript past the recording (attached without the duration check)
    w = pd.DataFrame({"onset": [1.0, 20.0], "offset": [1.2, 20.5], "word": ["a", "b"],
                      "speaker": ["A", "B"]})  # fmt: skip
    small_dyad.set_transcript(ha.Transcript(w), check_duration=False)
    with pytest.raises(ValueError, match="past the end"):
        make_word_epochs(small_dyad, "A", role="both")
    with pytest.raises(ValueError, match="past the recording"):
        speaking_masks(small_dyad)
    small_dyad.transcript = None
    with pytest.raises(ValueError, match="no transcript"):
        speaking_masks(small_dyad)


@pytest.mark.parametrize("meas_date", [None, "2020-01-01"])
def test_annotations_on_cropped_raw(small_words, meas_date):
    """Annotation onsets follow the dyad clock (raw.times) whatever first_samp/meas_date."""
    import datetime

    import mne

    rng = np.random.default_rng(0)
    raws = []
    for _ in range(2):
        r = ha.make_participant_raw(rng.standard_normal((2, 1300)), 100.0)
        if meas_date:
            r.set_meas_date(datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC))
        raws.append(r.crop(3.0))  # first_samp = 300
    dy = ha.Dyad([ha.Participant("A", raws[0]), ha.Participant("B", raws[1])],
                 ha.Transcript(small_words, speakers=["A", "B"]))  # fmt: skip
    add_speech_annotations(dy, level="words")
    ev, ev_id = mne.events_from_annotations(dy["B"].raw, event_id={"speaking": 1}, verbose=False)
    first_b = small_words.loc[small_words.speaker == "B", "onset"].min()
    assert (ev[0, 0] - dy["B"].raw.first_samp) / 100.0 == pytest.approx(first_b)


def test_make_dyad_epochs_are_matched(small_words):
    rng = np.random.default_rng(1)
    # B's recording is shorter: events near its end are kept for A only -> dropped from both
    raws = [ha.make_participant_raw(rng.standard_normal((3, n)), 100.0) for n in (1000, 420)]
    dy = ha.Dyad([ha.Participant("A", raws[0]), ha.Participant("B", raws[1])])
    dy.set_transcript(ha.Transcript(small_words.iloc[:7], speakers=["A", "B"]))
    e1, e2 = make_dyad_epochs(dy, -0.2, 0.5, kind="words")
    assert len(e1) == len(e2) > 0
    assert e1.metadata["word_index"].tolist() == e2.metadata["word_index"].tolist()
    assert (e1.metadata["participant"] == "A").all() and (e2.metadata["participant"] == "B").all()
    assert dy.to_hypyp(e1, e2).shape == (2, len(e1), 3, 71)
    assert dy.exclusions.total("word") > 0
    u1, u2 = make_dyad_epochs(dy, -0.2, 0.5)
    assert u1.metadata["utterance_id"].tolist() == u2.metadata["utterance_id"].tolist()
    # the singular spelling is deprecated (one release), with the same epochs
    with pytest.warns(FutureWarning, match=r"kind='word'\) is deprecated; use kind='words'") as w:
        d1, _ = make_dyad_epochs(dy, -0.2, 0.5, kind="word")
    assert w[0].filename == __file__  # the warning points at the caller
    np.testing.assert_array_equal(d1.get_data(), e1.get_data())
    with pytest.warns(FutureWarning, match="kind='utterances'"):
        d1, _ = make_dyad_epochs(dy, -0.2, 0.5, kind="utterance")
    assert d1.metadata["utterance_id"].tolist() == u1.metadata["utterance_id"].tolist()
    with pytest.raises(ValueError, match="kind"):
        make_dyad_epochs(dy, -0.2, 0.5, kind="turns")
