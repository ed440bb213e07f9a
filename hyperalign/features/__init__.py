"""Predictors from the conversation: semantic, layer-wise language-model and acoustic features.

Names load lazily (``import hyperalign.features`` imports neither torch nor transformers);
acoustic names come from ``acoustic.py`` / ``speech.py`` / ``prosody_alignment.py`` and
raise an informative ``AttributeError`` if their module is not importable.
"""

from __future__ import annotations

import importlib

_NAMES = {
    # semantic.py
    "embed_utterances": "semantic",
    "resolve_model": "semantic",
    # llm.py
    "LayerEmbeddings": "llm",
    "compute_layer_embeddings": "llm",
    "compute_static_embeddings": "llm",
    "random_word_embeddings": "llm",
    "shuffle_word_embeddings": "llm",
    "load_language_model": "llm",
    "clear_model_cache": "models",
    "get_model_registry": "models",
    "compute_speech_layer_embeddings": "speech_layers",
    # cache.py
    "FeatureCache": "cache",
    "get_cache_dir": "cache",
    "cache_key": "cache",
    # reduction.py
    "FoldPCA": "reduction",
    "cross_validated_reduction": "reduction",
    # semantic_alignment.py (formerly alignment.py)
    "compute_semantic_alignment": "semantic_alignment",
    "compute_alignment": "semantic_alignment",
    "previous_turns": "semantic_alignment",
    # table.py
    "compute_predictors": "table",
    # other developer's modules (acoustic / speech)
    "compute_acoustic_features": "acoustic",
    "compute_acoustic_timeseries": "acoustic",
    "check_audio_levels": "acoustic",
    "compute_acoustic_similarity": ("prosody_alignment", "acoustic"),
    "compute_speech_embeddings": "speech",
}

__all__ = sorted(_NAMES)


def __getattr__(name: str):
    if name not in _NAMES:
        raise AttributeError(f"module 'hyperalign.features' has no attribute {name!r}")
    mods = _NAMES[name]
    errors = []
    for mod in (mods,) if isinstance(mods, str) else mods:
        try:
            module = importlib.import_module(f".{mod}", __name__)
        except ImportError as err:
            errors.append(f"{mod}: {err}")
            continue
        if hasattr(module, name):
            value = getattr(module, name)
            globals()[name] = value
            return value
        errors.append(f"{mod}: no {name}")
    raise AttributeError(f"hyperalign.features.{name} is not available ({'; '.join(errors)})")


def __dir__():
    return sorted(set(globals()) | set(__all__))
