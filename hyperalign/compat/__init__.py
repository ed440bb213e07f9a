"""Drop-in replacements for other toolkits' APIs, computed by hyperalign's engine.

:mod:`hyperalign.compat.hypyp`
    HyPyP 0.6.2's analysis functions (``compute_freq_bands``, ``compute_sync``,
    ``pair_connectivity``, ``compute_single_freq``, ``compute_nmPLV``, ``compute_conn_mvar``,
    ``pow``, ``behav_corr``, ``indices_connectivity_intrabrain/interbrain``) with HyPyP's
    signatures, shapes, NaN handling and error types: ``from hyperalign.compat import hypyp``
    and call ``hypyp.compute_sync(...)`` where a script called ``hypyp.analyses.compute_sync``.

Nothing here imports HyPyP: it is only the reference the tests compare against.
"""

from ..utils._lazy import attach_stub as _attach_stub

__getattr__, __dir__, __all__ = _attach_stub(__name__, __file__)
