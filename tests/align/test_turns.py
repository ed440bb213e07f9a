"""Turn tables, floor transfer offsets and previous-turn mapping."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import hyperalign as ha
from hyperalign.align import previous_turn_utterance, turn_table


@pytest.fixture
def conv():
    w = pd.DataFrame(
        {
            "onset": [0.0, 0.4, 1.5, 1.9, 2.1, 2.6, 3.2, 3.6, 4.5, 5.0],
            "offset": [0.3, 0.9, 1.8, 2.3, 2.3, 3.0, 3.5, 3.9, 4.8, 5.4],
            "word": ["so", "anyway", "right", "what", "yeah", "happened", "it", "broke",
                     "oh", "really"],
            "speaker": ["A", "A", "B", "B", "A", "B", "A", "A", "B", "B"],
        }
    )  # fmt: skip
    return ha.Transcript(w, speakers=["A", "B"])


def test_turn_table(conv):
    u = conv.utterances
    tt = turn_table(conv)
    assert list(tt["speaker"]) == ["A", "B", "A"]
    assert tt["n_utterances"].sum() + tt["n_backchannels"].sum() == len(u)
    # B's turn starts at 1.5 (after A ended at 0.9): FTO = 0.6
    assert tt.loc[1, "fto"] == pytest.approx(0.6)
    assert np.isnan(tt.loc[0, "gap"])
    st = tt.attrs["fto_stats"]
    assert st["n"] == 2 and st["median"] == pytest.approx(np.median(tt["fto"].dropna()))
    assert tt.loc[1, "n_backchannels"] == 1  # A's 'yeah' during B's turn
    assert turn_table(ha.Dyad(
        [ha.Participant(p, ha.make_participant_raw(np.zeros((1, 1000)), 100.0)) for p in "AB"],
        conv)).equals(tt)  # fmt: skip
    with pytest.raises(
        TypeError,
        match=r"transcript must be a Transcript, a Dyad or an utterance DataFrame; "
        r"got \[1, 2\] \(list\)",
    ):
        turn_table([1, 2])
    with pytest.raises(TypeError, match=r"utterances must be a Transcript, .*; got 'u' \(str\)"):
        previous_turn_utterance("u")


def test_overlapping_turn_has_negative_fto():
    w = pd.DataFrame({"onset": [0.0, 0.5, 0.8, 1.2], "offset": [0.4, 1.0, 1.1, 1.6],
                      "word": ["one", "two", "three", "four"],
                      "speaker": ["A", "A", "B", "B"]})  # fmt: skip
    tt = turn_table(ha.Transcript(w))
    assert tt.loc[1, "fto"] == pytest.approx(-0.2) and tt.loc[1, "overlap"]


def test_previous_turn_utterance(conv):
    u = conv.utterances
    prev = previous_turn_utterance(u)
    assert len(prev) == len(u)
    assert prev["prev_utterance_id"].isna().iloc[0]  # the first utterance has no target
    for i, r in u.iterrows():
        p = prev.loc[i]
        if pd.isna(p["prev_utterance_id"]):
            continue
        tgt = u[u.utterance_id == p["prev_utterance_id"]].iloc[0]
        assert tgt.speaker != r.speaker and not tgt.backchannel and tgt.onset < r.onset
    # no utterance targets a backchannel
    bc_ids = set(u.loc[u.backchannel, "utterance_id"])
    assert not bc_ids & set(prev["prev_utterance_id"].dropna())
    # "it broke" (A) responds to B's 'what happened' turn
    k = u.index[u.text.str.startswith("it")][0]
    assert (
        u.set_index("utterance_id")
        .loc[prev.loc[k, "prev_utterance_id"], "text"]
        .endswith("happened")
    )


def test_one_previous_turn_rule_serves_every_caller(conv):
    """Semantic and acoustic alignment use align.turns.previous_turns, with or without
    backchannels and with or without the full utterance table."""
    from hyperalign.align import previous_turns
    from hyperalign.features.prosody_alignment import previous_utterances

    utt = conv.utterances
    pos = previous_turns(utt, 1)[:, 0]
    ids = utt["utterance_id"].to_numpy()
    expected = np.where(pos >= 0, ids[np.maximum(pos, 0)], -1)
    np.testing.assert_array_equal(previous_utterances(utt).to_numpy(), expected)
    pt = previous_turn_utterance(utt)
    np.testing.assert_array_equal(pt["prev_utterance_id"].fillna(-1).to_numpy(int), expected)
    # a table without backchannel/turn columns: onset order, no backchannel skipped
    thin = utt[["utterance_id", "speaker", "onset"]].iloc[::-1]
    got = previous_utterances(thin)
    srt = thin.sort_values(["onset", "utterance_id"], kind="mergesort")
    pos2 = previous_turns(srt, 1, skip_backchannels=False)[:, 0]
    ids2 = srt["utterance_id"].to_numpy()
    np.testing.assert_array_equal(got.to_numpy(), np.where(pos2 >= 0, ids2[pos2], -1))
    assert list(got.index) == list(ids2)
    # keeping backchannels as previous turns can only make the previous turn more recent
    keep_bc = previous_turns(utt, 1, skip_backchannels=False)[:, 0]
    on = utt["onset"].to_numpy()
    both = (keep_bc >= 0) & (pos >= 0)
    assert np.all(on[keep_bc[both]] >= on[pos[both]])
