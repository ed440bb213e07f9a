__all__ = [
    "read_transcript",
    "read_whisperx_json",
    "write_whisperx_json",
    "read_textgrid",
    "write_textgrid",
    "read_transcript_tsv",
    "write_transcript_tsv",
    "write_transcript",
    "TRANSCRIPT_FORMATS",
    "to_whisperx_dict",
]

from ._common import TRANSCRIPT_FORMATS, _read_text  # noqa: F401 (io.validate, io.bids)
from ._dispatch import read_transcript, write_transcript
from .table import read_transcript_tsv, write_transcript_tsv
from .textgrid import read_textgrid, write_textgrid
from .whisperx import read_whisperx_json, to_whisperx_dict, write_whisperx_json
