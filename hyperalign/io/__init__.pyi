__all__ = [
    "Truncation",
    "check_truncation",
    "read_fmri_roi",
    "SCHEMA_NAMES",
    "Problem",
    "load_schema",
    "validate_dataset",
    "MANIFEST_NAME",
    "read_bids_dyads",
    "read_manifest",
    "write_bids_dyads",
    "list_xdf_streams",
    "read_xdf_dyad",
    "read_xdf_raws",
    "AUDIO_SUFFIXES",
    "NEURAL_SUFFIXES",
    "read_audio",
    "write_audio",
    "read_dyad",
    "read_raw",
    "split_hyperscanning_raw",
    "TRANSCRIPT_FORMATS",
    "read_textgrid",
    "read_transcript",
    "read_transcript_tsv",
    "read_whisperx_json",
    "write_textgrid",
    "write_transcript",
    "write_transcript_tsv",
    "write_whisperx_json",
]

from ._truncation import Truncation, check_truncation
from .audio import AUDIO_SUFFIXES, read_audio, write_audio
from .bids import MANIFEST_NAME, read_bids_dyads, read_manifest, write_bids_dyads
from .fmri import read_fmri_roi
from .neural import NEURAL_SUFFIXES, read_dyad, read_raw, split_hyperscanning_raw
from .transcripts import (
    TRANSCRIPT_FORMATS,
    read_textgrid,
    read_transcript,
    read_transcript_tsv,
    read_whisperx_json,
    write_textgrid,
    write_transcript,
    write_transcript_tsv,
    write_whisperx_json,
)
from .validate import SCHEMA_NAMES, Problem, load_schema, validate_dataset

# the ``hyperalign validate`` command: importable, not in __all__
from .validate import validate_main as validate_main
from .xdf import list_xdf_streams, read_xdf_dyad, read_xdf_raws
