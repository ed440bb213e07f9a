"""Predictors from the conversation: semantic, layer-wise language-model and acoustic features.

Names load lazily (``import hyperalign.features`` imports neither torch nor transformers):
each name's module is imported on first use.
"""

from ..utils._lazy import attach_stub as _attach_stub

__getattr__, __dir__, __all__ = _attach_stub(__name__, __file__)
