"""hyperalign: hyperscanning of conversation.

Time-align two brains with the transcribed conversation, turn utterances and words into
semantic and acoustic predictors, measure inter-brain synchrony and test whether semantic
alignment explains it beyond acoustics.

The top-level namespace is kept small and light: ``import hyperalign`` does not import
torch, transformers or statsmodels. Subpackages (``hyperalign.io``, ``.align``,
``.transcribe``, ``.features``, ``.coupling``, ``.stats``, ``.simulation``, ``.datasets``,
``.report``, ``.pipeline``) and the most used functions below load on first use.
"""

from __future__ import annotations

import importlib

from .dyad import Dyad, Participant, make_participant_raw
from .transcript import Transcript, TranscriptError
from .utils import set_log_level

__version__ = "0.1.0.dev0"

_SUBPACKAGES = (
    "align", "backend", "compat", "coupling", "datasets", "encoding", "features", "io",
    "pipeline", "report", "simulation", "stats", "transcribe", "utils",
)  # fmt: skip

#: public functions re-exported lazily: name -> subpackage
_LAZY = {
    "read_dyad": "io",
    "read_transcript": "io",
    "write_transcript": "io",
    "read_bids_dyads": "io",
    "write_bids_dyads": "io",
    "validate_dataset": "io",
    "align_clocks": "align",
    "sync_dyad": "align",
    "make_word_epochs": "align",
    "make_utterance_epochs": "align",
    "speaking_masks": "align",
    "transcribe_dyad": "transcribe",
    "force_align": "transcribe",
    "compute_predictors": "features",
    "embed_utterances": "features",
    "compute_layer_embeddings": "features",
    "compute_semantic_alignment": "features",
    "compute_acoustic_features": "features",
    "compute_speech_layer_embeddings": "features",
    "check_truncation": "io",
    "fit_word_encoding": "encoding",
    "fit_trf": "encoding",
    "fit_fir": "encoding",
    "EncodingResult": "encoding",
    "read_encoding": "encoding",
    "compute_sync": "coupling",
    "compute_dyad_sync": "coupling",
    "summarize_utterances": "coupling",
    "read_coupling": "coupling",
    "build_analysis_table": "stats",
    "fit_mixed": "stats",
    "test_semantic_beyond_acoustics": "stats",
    "simulate_conversation": "simulation",
    "simulate_study": "simulation",
    "load_demo": "datasets",
    "run_pipeline": "pipeline",
}


def __getattr__(name: str):
    if name in _SUBPACKAGES:
        return importlib.import_module(f".{name}", __name__)
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'hyperalign' has no attribute {name!r}")


def __dir__():
    return sorted([*globals(), *_SUBPACKAGES, *_LAZY])


__all__ = [
    "Dyad",
    "Participant",
    "Transcript",
    "TranscriptError",
    "make_participant_raw",
    "set_log_level",
    "__version__",
    *_LAZY,
]
