"""Transcript readers and writers: whisperx JSON, Praat TextGrid and TSV/CSV tables.

One module per format (:mod:`.whisperx`, :mod:`.textgrid`, :mod:`.table`) and a dispatch on
the format (:func:`read_transcript`, :func:`write_transcript`), as MNE's ``io/<format>/``.

Every reader returns a :class:`hyperalign.Transcript` whose speaker labels are participant
ids (rename with ``speakers={'SPEAKER_00': 'A', ...}``). Every writer has a matching reader
and a round trip gives back the same word table (onset, offset, word, speaker and, where the
format stores it, confidence).

Words that a forced aligner left without times (whisperx leaves some numerals unaligned) are
*not* dropped: their times are interpolated inside the gap between their timed neighbours,
the word table marks them ``timing='interpolated'`` and the transcript's ``fixes`` lists them.
"""

from ._common import TRANSCRIPT_FORMATS, _read_text  # noqa: F401 (io.validate, io.bids)
from ._dispatch import read_transcript, write_transcript
from .table import read_transcript_tsv, write_transcript_tsv
from .textgrid import read_textgrid, write_textgrid
from .whisperx import read_whisperx_json, to_whisperx_dict, write_whisperx_json

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
