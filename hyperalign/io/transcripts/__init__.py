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

from ...utils._lazy import attach_stub as _attach_stub

__getattr__, __dir__, __all__ = _attach_stub(__name__, __file__)
