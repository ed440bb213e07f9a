__all__ = [
    "FeatureCache",
    "FoldPCA",
    "LayerEmbeddings",
    "cache_key",
    "check_audio_levels",
    "clear_model_cache",
    "compute_acoustic_features",
    "compute_acoustic_similarity",
    "compute_acoustic_timeseries",
    "compute_alignment",
    "compute_layer_embeddings",
    "compute_predictors",
    "compute_semantic_alignment",
    "compute_speech_embeddings",
    "compute_speech_layer_embeddings",
    "compute_static_embeddings",
    "cross_validated_reduction",
    "embed_utterances",
    "get_cache_dir",
    "get_model_registry",
    "load_language_model",
    "previous_turns",
    "random_word_embeddings",
    "resolve_model",
    "shuffle_word_embeddings",
]

from .acoustic import check_audio_levels, compute_acoustic_features, compute_acoustic_timeseries
from .cache import FeatureCache, cache_key, get_cache_dir
from .llm import (
    LayerEmbeddings,
    compute_layer_embeddings,
    compute_static_embeddings,
    load_language_model,
    random_word_embeddings,
    shuffle_word_embeddings,
)
from .models import clear_model_cache, get_model_registry
from .prosody_alignment import compute_acoustic_similarity
from .reduction import FoldPCA, cross_validated_reduction
from .semantic import embed_utterances, resolve_model
from .semantic_alignment import compute_alignment, compute_semantic_alignment, previous_turns
from .speech import compute_speech_embeddings
from .speech_layers import compute_speech_layer_embeddings
from .table import compute_predictors
