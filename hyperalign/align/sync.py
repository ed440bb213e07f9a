"""Clock alignment (kept for backward compatibility: the code lives in its own modules).

- :mod:`hyperalign.align._clock_model`: :class:`ClockModel`, :class:`LagResult`,
  :class:`TriggerMatch`, :class:`ClockError` and the robust clock fit.
- :mod:`hyperalign.align._audio_lag`: :func:`envelope`, :func:`find_audio_lag`.
- :mod:`hyperalign.align._drift`: :func:`align_by_triggers`, :func:`estimate_drift`,
  :func:`estimate_drift_from_signals`.
- :mod:`hyperalign.align._apply_clock`: :func:`apply_clock` (resampling onto one clock).
- :mod:`hyperalign.align.clocks`: :func:`align_clocks` (formerly :func:`sync_dyad`).
"""

# re-exports of the old single module
from ._apply_clock import apply_clock  # noqa: F401
from ._audio_lag import envelope, find_audio_lag  # noqa: F401
from ._clock_model import ClockError, ClockModel, LagResult, TriggerMatch  # noqa: F401
from ._drift import align_by_triggers, estimate_drift, estimate_drift_from_signals  # noqa: F401
from .clocks import align_clocks, sync_dyad  # noqa: F401
