"""Deprecated module path: semantic alignment lives in :mod:`.semantic_alignment`.

``hyperalign.features.alignment`` keeps working for one release as a thin re-export
(semantic alignment, not clock alignment: that is :mod:`hyperalign.align`).
"""

from .semantic_alignment import (  # noqa: F401
    __all__,
    _listener,
    compute_alignment,
    compute_semantic_alignment,
    previous_turns,
)
