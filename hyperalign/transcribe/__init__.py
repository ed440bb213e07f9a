"""Speech recognition and forced alignment with word timestamps.

- :func:`transcribe_dyad`: Whisper (faster-whisper, or whisperx when installed) on each
  participant's own microphone; the microphone labels the speaker; cross-talk removed and
  reported. :func:`transcribe_main` backs the ``hyperalign transcribe`` command.
- :func:`force_align`: word times for a transcript the user already has.
- :func:`word_error_rate`, :func:`onset_errors`: quality against a reference.

faster-whisper is imported only inside the functions.
"""

from .asr import (
    TranscriptionReport,
    detect_crosstalk,
    to_whisperx_dict,
    transcribe_dyad,
    transcribe_main,
    write_transcript_json,
)
from .forced import force_align, force_align_dyad, refine_onsets_by_energy
from .metrics import normalize_word, onset_errors, word_error_rate

__all__ = [
    "TranscriptionReport",
    "detect_crosstalk",
    "force_align",
    "force_align_dyad",
    "normalize_word",
    "onset_errors",
    "refine_onsets_by_energy",
    "to_whisperx_dict",
    "transcribe_dyad",
    "transcribe_main",
    "word_error_rate",
    "write_transcript_json",
]
