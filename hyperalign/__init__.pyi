__all__ = [
    "Dyad",
    "Participant",
    "Transcript",
    "TranscriptError",
    "make_participant_raw",
    "set_log_level",
    "__version__",
    "read_dyad",
    "read_transcript",
    "write_transcript",
    "read_bids_dyads",
    "write_bids_dyads",
    "validate_dataset",
    "align_clocks",
    "sync_dyad",
    "make_word_epochs",
    "make_utterance_epochs",
    "speaking_masks",
    "transcribe_dyad",
    "force_align",
    "compute_predictors",
    "embed_utterances",
    "compute_layer_embeddings",
    "compute_semantic_alignment",
    "compute_acoustic_features",
    "compute_speech_layer_embeddings",
    "check_truncation",
    "fit_word_encoding",
    "fit_trf",
    "fit_fir",
    "EncodingResult",
    "read_encoding",
    "compute_sync",
    "compute_dyad_sync",
    "summarize_utterances",
    "read_coupling",
    "build_analysis_table",
    "fit_mixed",
    "test_semantic_beyond_acoustics",
    "simulate_conversation",
    "simulate_study",
    "load_demo",
    "run_pipeline",
]

__version__: str

# the subpackages (attached lazily; not in __all__)
from . import (  # noqa: F401
    align,
    backend,
    compat,
    coupling,
    datasets,
    encoding,
    features,
    io,
    pipeline,
    report,
    simulation,
    stats,
    transcribe,
    utils,
)
from .align import align_clocks, make_utterance_epochs, make_word_epochs, speaking_masks, sync_dyad
from .coupling import compute_dyad_sync, compute_sync, read_coupling, summarize_utterances
from .datasets import load_demo
from .dyad import Dyad, Participant, make_participant_raw
from .encoding import EncodingResult, fit_fir, fit_trf, fit_word_encoding, read_encoding
from .features import (
    compute_acoustic_features,
    compute_layer_embeddings,
    compute_predictors,
    compute_semantic_alignment,
    compute_speech_layer_embeddings,
    embed_utterances,
)
from .io import (
    check_truncation,
    read_bids_dyads,
    read_dyad,
    read_transcript,
    validate_dataset,
    write_bids_dyads,
    write_transcript,
)
from .pipeline import run_pipeline
from .simulation import simulate_conversation, simulate_study
from .stats import build_analysis_table, fit_mixed, test_semantic_beyond_acoustics
from .transcribe import force_align, transcribe_dyad
from .transcript import Transcript, TranscriptError
from .utils import set_log_level
