"""Bad inputs to the layer sweep, the hierarchy test and model-based coupling (issue 13): each
is a clear error naming the parameter, the value received and the fix."""

from __future__ import annotations

import numpy as np
import pytest

from hyperalign.encoding import (
    Folds,
    fit_b2b_coupling,
    fit_word_encoding,
    hierarchy_test,
    sweep_layers,
)
from hyperalign.encoding.b2b import sweep_b2b

LAGS = {"lags": [0.0, 0.2], "window": 0.1}


@pytest.fixture(scope="module")
def sim():
    from hyperalign.features import LayerEmbeddings
    from hyperalign.simulation import simulate_conversation

    d, t = simulate_conversation(duration=60, n_channels=8, audio=False, random_state=0,
                                 layer_hierarchy={"temporal": "layer_2"})  # fmt: skip
    return d, LayerEmbeddings.from_truth(t), t.layers["rois"]


def _emb_like(emb, words, data=None):
    from hyperalign.features import LayerEmbeddings

    data = emb.data if data is None else data
    return LayerEmbeddings(words, data, list(emb.layer_names), model=emb.model)


def test_model_with_fewer_layers_than_asked(sim):
    d, emb, rois = sim
    msg = r"layer=12 was asked but features \(model 'simulated-layers'\) has only 7 layers"
    with pytest.raises(ValueError, match=msg + r".*ask for one of them"):
        fit_b2b_coupling(d, emb, layer=12, rois=rois, cv=3, **LAGS)
    with pytest.raises(ValueError, match=r"layer=-8 was asked .* has only 7 layers"):
        fit_word_encoding(d, emb, layer=-8, participant=d.ids[0], cv=3, **LAGS)
    with pytest.raises(ValueError, match=r"layer='layer_9' is not a layer of .*pass one"):
        fit_b2b_coupling(d, emb, layer="layer_9", rois=rois, cv=3, **LAGS)
    many = r"layers: layer 9 was asked but 'simulated-layers' has only 7 layers.*fewer layers"
    with pytest.raises(ValueError, match=many):
        sweep_layers(d, emb, layers=[0, 9], cv=3, **LAGS)
    with pytest.raises(ValueError, match=many):
        sweep_b2b(d, emb, layers=[0, 9], rois=rois, cv=3, **LAGS)


def test_layer_words_not_matching_the_transcript(sim):
    d, emb, rois = sim
    words = emb.words.copy()
    words.loc[5, "word"] = "zebra"
    bad = _emb_like(emb, words)
    msg = r"does not match the transcript: 1 words differ \(first at row 5: 'zebra'.*compute"
    with pytest.raises(ValueError, match=msg):
        fit_b2b_coupling(d, bad, layer=1, rois=rois, cv=3, **LAGS)
    with pytest.raises(ValueError, match=r"features\['simulated-layers'\] of dyad .*" + msg):
        sweep_b2b(d, bad, rois=rois, cv=3, **LAGS)
    with pytest.raises(ValueError, match=msg):
        sweep_layers(d, bad, cv=3, **LAGS)
    late = emb.words.copy()
    late["onset"] = late["onset"] + 0.5  # embeddings of another (unaligned) transcript
    with pytest.raises(ValueError, match=r"onsets differ by up to 0.500 s.*aligned\) transcript"):
        sweep_b2b(d, _emb_like(emb, late), rois=rois, cv=3, **LAGS)
    short = _emb_like(emb, emb.words.iloc[:-1].reset_index(drop=True), emb.data[:-1])
    n = len(d.transcript.words)
    with pytest.raises(ValueError, match=f"has {n - 1} rows but the transcript has {n} words"):
        sweep_b2b(d, short, rois=rois, cv=3, **LAGS)


def test_roi_ordering_naming_unknown_rois(sim):
    d, emb, rois = sim
    sw = sweep_layers(d, emb, roles=["comprehension"], rois=rois, cv=3, verbose=False, **LAGS)
    msg = (
        r"order must name at least 2 distinct ROIs among \['frontal', .*\]; got "
        r"\['temporal', 'Broca'\] \(unknown: \['Broca'\]\); define ROIs with rois="
    )
    with pytest.raises(ValueError, match=msg):
        hierarchy_test(sw, ["temporal", "Broca"], n_permutations=10)
    with pytest.raises(ValueError, match=r"rois\['x'\] names targets that were not fitted"):
        hierarchy_test(sw, ["x", "temporal"], rois={"x": ["Q1"]}, n_permutations=10)


def test_dyads_too_short_for_the_folds(sim):
    d, emb, rois = sim
    short = d.copy().crop(0, 8)
    n = len(short.transcript.words)
    semb = _emb_like(emb, emb.words.iloc[:n].reset_index(drop=True), emb.data[:n])
    with pytest.raises(ValueError, match=r"too few samples for the folds: n_splits=10 .*"
                                         r"need at least 20 samples.*fewer folds"):  # fmt: skip
        sweep_b2b(short, semb, rois=rois, cv=10, **LAGS)
    with pytest.raises(ValueError, match="too short for the folds.*use fewer folds"):
        sweep_layers(short, semb, cv=5, **LAGS)
    with pytest.raises(ValueError, match=r"too few samples for the folds: n_splits=10"):
        fit_b2b_coupling(short, semb, layer=1, rois=rois, cv=10, **LAGS)
    with pytest.raises(ValueError, match=r"cv: fold \d holds out 0 words of speaker .*fewer"):
        fit_b2b_coupling(short, semb, layer=1, rois=rois, cv=5, **LAGS)


def _one_speaker_fold(d):
    """Folds whose first test block holds one utterance (one speaker's words only)."""
    u = d.transcript.utterances
    a, b = float(u.onset.iloc[1]) - 0.01, float(u.offset.iloc[1]) + 0.01
    edges = np.linspace(b, d.duration, 4)
    return Folds([(a, b), *zip(edges[:-1], edges[1:])], 0.3, "blocks"), u.speaker.iloc[1]


def test_listener_with_no_held_out_words_in_a_fold(sim):
    d, emb, rois = sim
    folds, talker = _one_speaker_fold(d)
    partner = [p for p in d.ids if p != talker][0]
    msg = (r"fold 0 of cv has \d+ training and 0 test words .* none of the modelled words "
           r"\(the participant's own words for production, the partner's for comprehension\)"
           r".*use fewer folds")  # fmt: skip
    # the talker listens to nothing in fold 0: no held-out word for its comprehension model
    with pytest.raises(ValueError, match=msg):
        fit_word_encoding(d, emb, layer=1, participant=talker, role="comprehension", cv=folds,
                          **LAGS)  # fmt: skip
    with pytest.raises(ValueError, match=msg):
        sweep_layers(d, emb, participants=[partner], roles=["production"], cv=folds, **LAGS)
    b2b = (rf"cv: fold 0 holds out 0 words of speaker '{partner}' .* so that the listener has "
           r"held-out words to be compared with. Use fewer folds")  # fmt: skip
    with pytest.raises(ValueError, match=b2b):
        fit_b2b_coupling(d, emb, layer=1, rois=rois, cv=folds, **LAGS)
    with pytest.raises(ValueError, match=b2b):
        sweep_b2b(d, emb, rois=rois, cv=folds, **LAGS)


def test_pseudo_listener_at_another_rate(sim):
    d, emb, rois = sim
    other = d.copy()
    for p in other.participants:
        p.raw.resample(128)
    with pytest.raises(ValueError, match=r"pseudo_dyads: dyad .* sampled at 128.0 Hz but .*"
                                         r"resample them to one rate"):  # fmt: skip
        fit_b2b_coupling(d, emb, layer=1, rois=rois, cv=3, null="pseudo", pseudo_dyads=[other],
                         **LAGS)  # fmt: skip
