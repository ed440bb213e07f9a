"""Statistics: mixed models, permutation tests, corrections, bootstrap, variance partitioning.

``statsmodels`` is imported inside the functions that need it.
"""

from ..utils._lazy import attach_stub as _attach_stub

__getattr__, __dir__, __all__ = _attach_stub(__name__, __file__)
