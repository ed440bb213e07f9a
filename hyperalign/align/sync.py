"""Clock alignment (kept for backward compatibility: the code lives in its own modules).

- :mod:`hyperalign.align._clock_model`: :class:`ClockModel`, :class:`LagResult`,
  :class:`TriggerMatch`, :class:`ClockError` and the robust clock fit.
- :mod:`hyperalign.align._audio_lag`: :func:`envelope`, :func:`find_audio_lag`.
- :mod:`hyperalign.align._drift`: :func:`align_by_triggers`, :func:`estimate_drift`,
  :func:`estimate_drift_from_signals`.
- :mod:`hyperalign.align._apply_clock`: :func:`apply_clock` (resampling onto one clock).
- :mod:`hyperalign.align.clocks`: :func:`align_clocks` (formerly :func:`sync_dyad`).
"""

from ._apply_clock import apply_clock
from ._audio_lag import envelope, find_audio_lag
from ._clock_model import ClockError, ClockModel, LagResult, TriggerMatch
from ._drift import align_by_triggers, estimate_drift, estimate_drift_from_signals
from .clocks import align_clocks, sync_dyad

__all__ = [
    "ClockError",
    "ClockModel",
    "LagResult",
    "TriggerMatch",
    "align_by_triggers",
    "align_clocks",
    "apply_clock",
    "envelope",
    "estimate_drift",
    "estimate_drift_from_signals",
    "find_audio_lag",
    "sync_dyad",
]
