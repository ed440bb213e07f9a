"""Deprecated: the simulation-validation study moved to ``benchmarks/validation_study.py``.

Its one-study function is private (``hyperalign.stats._simstudy``); importing it from here
works for one release with a ``DeprecationWarning``.
"""

from __future__ import annotations

import warnings

__all__: list[str] = []

_MOVED = ("run_validation_study", "run_validation_study_safe")


def __getattr__(name: str):
    if name in _MOVED:
        warnings.warn(
            f"hyperalign.stats.validation.{name} is deprecated (the validation study is a "
            "benchmark, benchmarks/validation_study.py); it will be removed in the next "
            "release. Run the benchmark script instead.",
            DeprecationWarning,
            stacklevel=2,
        )
        from . import _simstudy

        return getattr(_simstudy, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
