__all__ = [
    "ClockError",
    "ClockModel",
    "LagResult",
    "TriggerMatch",
    "add_speech_annotations",
    "align_by_triggers",
    "align_clocks",
    "apply_clock",
    "envelope",
    "estimate_drift",
    "estimate_drift_from_signals",
    "find_audio_lag",
    "floor_transfer_stats",
    "listening_masks",
    "make_dyad_epochs",
    "make_utterance_epochs",
    "make_word_epochs",
    "overlap_masks",
    "previous_turn_utterance",
    "previous_turns",
    "speaking_masks",
    "sync_dyad",
    "turn_table",
]

from ._apply_clock import apply_clock
from ._audio_lag import envelope, find_audio_lag
from ._clock_model import ClockError, ClockModel, LagResult, TriggerMatch
from ._drift import align_by_triggers, estimate_drift, estimate_drift_from_signals
from .clocks import align_clocks, sync_dyad
from .epochs import make_dyad_epochs, make_utterance_epochs, make_word_epochs
from .masks import add_speech_annotations, listening_masks, overlap_masks, speaking_masks
from .turns import floor_transfer_stats, previous_turn_utterance, previous_turns, turn_table
