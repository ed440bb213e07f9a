"""Put a dyad on one clock and cut it into speech-locked pieces.

- :mod:`~hyperalign.align.clocks`: clock synchronisation of a dyad (:func:`align_clocks`,
  formerly ``sync_dyad``) from audio↔amplifier lags, trigger matching and clock drift, and
  resampling onto one clock (not inter-brain synchrony: that is :mod:`hyperalign.coupling`).
- :mod:`~hyperalign.align.turns`: turn tables, floor transfer offsets, the utterance each
  utterance responds to.
- :mod:`~hyperalign.align.masks`: speaking / listening / overlap masks and annotations.
- :mod:`~hyperalign.align.epochs`: word- and utterance-locked :class:`mne.Epochs`.
"""

from ..utils._lazy import attach_stub as _attach_stub

__getattr__, __dir__, __all__ = _attach_stub(__name__, __file__)
