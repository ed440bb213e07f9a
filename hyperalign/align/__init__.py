"""Put a dyad on one clock and cut it into speech-locked pieces.

- :mod:`~hyperalign.align.sync`: audio↔amplifier lags, trigger matching, clock drift,
  resampling onto one clock (:func:`sync_dyad`).
- :mod:`~hyperalign.align.turns`: turn tables, floor transfer offsets, the utterance each
  utterance responds to.
- :mod:`~hyperalign.align.masks`: speaking / listening / overlap masks and annotations.
- :mod:`~hyperalign.align.epochs`: word- and utterance-locked :class:`mne.Epochs`.
"""

from .epochs import make_dyad_epochs, make_utterance_epochs, make_word_epochs
from .masks import add_speech_annotations, listening_masks, overlap_masks, speaking_masks
from .sync import (
    ClockError,
    ClockModel,
    LagResult,
    TriggerMatch,
    align_by_triggers,
    apply_clock,
    envelope,
    estimate_drift,
    estimate_drift_from_signals,
    find_audio_lag,
    sync_dyad,
)
from .turns import floor_transfer_stats, previous_turn_utterance, previous_turns, turn_table

__all__ = [
    "ClockError",
    "ClockModel",
    "LagResult",
    "TriggerMatch",
    "add_speech_annotations",
    "align_by_triggers",
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
