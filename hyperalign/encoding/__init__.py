"""Encoding models: map feature spaces onto each brain, lag by lag, out of fold.

Solvers (:func:`ridge_cv`, :func:`nested_ridge_cv`; NumPy or torch per call), word-level
lagged encoding (:func:`fit_word_encoding`, presets ``'zada2024'`` and ``'goldstein2022'``),
folds on the clock shared by roles, brains and layers (:func:`make_folds`), results in
:class:`EncodingResult`.
"""

from ..utils._lazy import attach_stub as _attach_stub

__getattr__, __dir__, __all__ = _attach_stub(__name__, __file__)
