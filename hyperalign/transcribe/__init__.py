"""Speech recognition and forced alignment with word timestamps.

- :func:`transcribe_dyad`: Whisper (faster-whisper, or whisperx when installed) on each
  participant's own microphone; the microphone labels the speaker; cross-talk removed and
  reported. ``transcribe_main`` backs the ``hyperalign transcribe`` command (not in
  ``__all__``: a command-line entry point, not library API).
- :func:`force_align`: word times for a transcript the user already has.
- :func:`word_error_rate`, :func:`onset_errors`: quality against a reference.

faster-whisper is imported only inside the functions.
"""

from ..utils._lazy import attach_stub as _attach_stub

__getattr__, __dir__, __all__ = _attach_stub(__name__, __file__)
