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
    "word_error_rate",
    "write_transcript_json",
]

from .asr import (
    TranscriptionReport,
    detect_crosstalk,
    to_whisperx_dict,
    transcribe_dyad,
    write_transcript_json,
)

# the ``hyperalign transcribe`` command: importable, not in __all__
from .asr import transcribe_main as transcribe_main
from .forced import force_align, force_align_dyad, refine_onsets_by_energy
from .metrics import normalize_word, onset_errors, word_error_rate
