__all__ = [
    "DEFAULTS",
    "ConversationConfig",
    "GroundTruth",
    "StudyTruth",
    "simulate_conversation",
    "simulate_study",
    "word_vector",
    "acoustic_similarity",
    "count_syllables",
    "load_corpus",
    "load_corpus_embeddings",
    "load_backchannels",
    "default_rois",
    "derived_layer_features",
]

from ._config import DEFAULTS, ConversationConfig
from ._dialogue import acoustic_similarity, count_syllables
from ._layers import default_rois, derived_layer_features
from ._simulate import (
    GroundTruth,
    StudyTruth,
    simulate_conversation,
    simulate_study,
    word_vector,
)
from .corpus import load_backchannels, load_corpus, load_corpus_embeddings
