"""A methods paragraph generated from the parameters actually used in an analysis.

The implementation moved to :mod:`hyperalign.stats._methods` (stats never imports report);
this module re-exports it.
"""

from __future__ import annotations

from ..stats._methods import _list, methods_paragraph  # noqa: F401

__all__ = ["methods_paragraph"]
