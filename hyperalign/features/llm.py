"""Layer-wise language-model features (re-exports; kept so that old imports keep working).

The code lives in:

- :mod:`hyperalign.features.models`: model loading once per process (LRU registry) and the
  per-machine dequantised copy of GGUF checkpoints (:func:`load_language_model`);
- :mod:`hyperalign.features.layers`: the :class:`LayerEmbeddings` container;
- :mod:`hyperalign.features.contextual`: :func:`compute_layer_embeddings` (contextual word
  embeddings, surprisal, entropy; the definitions are in that module's notes);
- :mod:`hyperalign.features.controls`: static, random and shuffled controls.
"""

from __future__ import annotations

from .contextual import compute_layer_embeddings
from .controls import compute_static_embeddings, random_word_embeddings, shuffle_word_embeddings
from .layers import LayerEmbeddings
from .models import (
    DEFAULT_LAYER_MODEL,
    clear_model_cache,
    get_model_registry,
    load_language_model,
)

__all__ = [
    "LayerEmbeddings",
    "compute_layer_embeddings",
    "compute_static_embeddings",
    "random_word_embeddings",
    "shuffle_word_embeddings",
    "load_language_model",
    "clear_model_cache",
    "get_model_registry",
    "DEFAULT_LAYER_MODEL",
]
