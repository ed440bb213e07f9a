"""Reading and writing datasets: neural recordings, audio, transcripts, BIDS, XDF, fMRI.

Readers return hyperalign containers (:class:`~hyperalign.Dyad`,
:class:`~hyperalign.Transcript`); every reader has a matching writer where the format allows
one. :func:`validate_dataset` checks a dataset folder against the schemas in ``data_specs/``.
"""

from ..utils._lazy import attach_stub as _attach_stub

__getattr__, __dir__, __all__ = _attach_stub(__name__, __file__)
