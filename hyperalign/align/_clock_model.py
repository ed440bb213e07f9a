"""Clock models: a linear map between two clocks, its robust fit and its trust limits.

A :class:`ClockModel` maps times of clock ``b`` onto clock ``a``::

    t_a = offset + (1 + drift_ppm * 1e-6) * t_b

so ``offset`` is where time zero of clock ``b`` falls on clock ``a`` and ``drift_ppm`` is how
much faster clock ``a`` runs than clock ``b`` (parts per million). A :class:`LagResult` says
that an event at time ``t`` on the *audio* clock appears at ``t + lag_s`` on the *reference*
clock. Untrustworthy estimates raise :class:`ClockError`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from ..utils import logger


class ClockError(ValueError):
    """A clock alignment could not be trusted (too much drift, large residuals, no match)."""


# ---------------------------------------------------------------------- containers
@dataclass
class LagResult:
    """Lag between an audio signal and a reference channel.

    Parameters
    ----------
    lag_s : float
        An event at audio time ``t`` is at reference time ``t + lag_s``.
    confidence : float
        Peak-to-sidelobe ratio of the envelope cross-correlation (peak height above the
        mean of the correlation away from the peak, in standard deviations of it).
    corr : float
        Pearson correlation of the two envelopes at the peak lag (over their overlap).
    env_sfreq : float
        Rate (Hz) at which the envelopes were compared.
    n_overlap_s : float
        Duration of the overlap of the two envelopes at the peak lag.
    reliable : bool
        ``confidence >= min_confidence`` and ``corr >= min_corr``.

    See Also
    --------
    find_audio_lag : Computes it.
    """

    lag_s: float
    confidence: float
    corr: float
    env_sfreq: float
    n_overlap_s: float
    reliable: bool = True

    def to_dict(self) -> dict:
        """The fields as a plain dict (NumPy floats as Python floats).

        Returns
        -------
        d : dict
            ``{field: value}``.
        """
        return {
            k: (float(v) if isinstance(v, np.floating) else v) for k, v in asdict(self).items()
        }


@dataclass
class ClockModel:
    """Linear map from clock ``b`` to clock ``a``: ``t_a = offset + (1 + drift_ppm*1e-6) t_b``.

    Parameters
    ----------
    offset : float
        Time (s, clock ``a``) of time zero of clock ``b``.
    drift_ppm : float
        Rate difference in parts per million (positive: clock ``a`` runs faster).
    residual_rms_s, max_residual_s : float
        Root-mean-square and largest absolute residual (s) of the points used in the fit.
    n_used, n_rejected : int
        Points (trigger pairs or windowed lags) used in, and rejected from, the fit
        (unmatched triggers and outliers count as rejected).
    method : str
        ``'triggers'``, ``'signal'``, ``'lag'`` (one lag, no drift), ``'identity'`` or
        ``'composed'``.
    details : dict
        Diagnostics of the fit (matched indices, windowed lags); not part of
        :meth:`to_dict`.

    See Also
    --------
    estimate_drift, estimate_drift_from_signals, apply_clock
    """

    offset: float
    drift_ppm: float
    residual_rms_s: float = 0.0
    max_residual_s: float = 0.0
    n_used: int = 0
    n_rejected: int = 0
    method: str = "triggers"
    details: dict = field(default_factory=dict, repr=False)

    @property
    def scale(self) -> float:
        """The rate ratio ``1 + drift_ppm * 1e-6``."""
        return 1.0 + self.drift_ppm * 1e-6

    def to_a(self, t_b):
        """Map times on clock ``b`` to clock ``a``.

        Parameters
        ----------
        t_b : float | array-like of float
            Times (s) on clock ``b``.

        Returns
        -------
        t_a : numpy.ndarray
            The same instants on clock ``a``.
        """
        return self.offset + self.scale * np.asarray(t_b, float)

    def to_b(self, t_a):
        """Map times on clock ``a`` to clock ``b``.

        Parameters
        ----------
        t_a : float | array-like of float
            Times (s) on clock ``a``.

        Returns
        -------
        t_b : numpy.ndarray
            The same instants on clock ``b``.
        """
        return (np.asarray(t_a, float) - self.offset) / self.scale

    def inverse(self) -> ClockModel:
        """The model mapping clock ``a`` onto clock ``b``.

        Returns
        -------
        model : ClockModel
            ``t_b = offset' + (1 + drift_ppm' * 1e-6) t_a`` (same fit diagnostics).
        """
        s = 1.0 / self.scale
        return ClockModel(
            -self.offset * s, (s - 1.0) * 1e6, self.residual_rms_s, self.max_residual_s,
            self.n_used, self.n_rejected, self.method,
        )  # fmt: skip

    def compose(self, inner: ClockModel) -> ClockModel:
        """``self ∘ inner``: maps ``inner``'s clock b to ``self``'s clock a.

        Parameters
        ----------
        inner : ClockModel
            The model applied first (its clock ``a`` is this model's clock ``b``).

        Returns
        -------
        model : ClockModel
            The composed map (``method='composed'``; residuals added).
        """
        scale = self.scale * inner.scale
        return ClockModel(
            offset=self.offset + self.scale * inner.offset,
            drift_ppm=(scale - 1.0) * 1e6,
            residual_rms_s=float(np.hypot(self.residual_rms_s, inner.residual_rms_s)),
            max_residual_s=self.max_residual_s + inner.max_residual_s,
            n_used=min(self.n_used, inner.n_used),
            n_rejected=self.n_rejected + inner.n_rejected,
            method="composed",
        )

    def to_dict(self) -> dict:
        """The fields without ``details``, as a plain dict (NumPy floats as Python floats).

        Returns
        -------
        d : dict
            ``{field: value}``.
        """
        d = asdict(self)
        d.pop("details")
        return {k: (float(v) if isinstance(v, np.floating) else v) for k, v in d.items()}


@dataclass
class TriggerMatch:
    """Pairs of matched triggers of two recordings.

    Parameters
    ----------
    idx_a, idx_b : numpy.ndarray of int
        Indices of matched triggers in ``times_a`` and ``times_b``.
    offset : float
        Coarse offset ``t_a - t_b`` (s) found by the matching.
    n_unmatched_a, n_unmatched_b : int
        Triggers of each sequence that found no partner (missing in the other recording).

    See Also
    --------
    align_by_triggers : Computes it.
    """

    idx_a: np.ndarray
    idx_b: np.ndarray
    offset: float
    n_unmatched_a: int
    n_unmatched_b: int


# ---------------------------------------------------------------------- robust line fit
def _robust_line(
    x: np.ndarray, y: np.ndarray, *, k: float = 5.0, floor: float = 1e-4, n_iter: int = 10
) -> tuple[float, float, np.ndarray]:
    """Fit ``y = a + b x`` rejecting points beyond ``k`` robust SDs (at least ``floor``)."""
    keep = np.ones(len(x), bool)
    a = b = 0.0
    for _ in range(n_iter):
        if keep.sum() < 2:
            break
        xm = x[keep].mean()
        b, a0 = np.polyfit(x[keep] - xm, y[keep], 1)
        a = a0 - b * xm
        res = y - (a + b * x)
        mad = 1.4826 * np.median(np.abs(res[keep] - np.median(res[keep])))
        new = np.abs(res) <= max(k * mad, floor)
        if np.array_equal(new, keep):
            break
        keep = new
    return float(a), float(b), keep


def _finish_model(
    x, y, keep, a, b, *, n_extra_rejected, method, max_drift_ppm, max_residual, what
) -> ClockModel:
    res = y[keep] - (a + b * x[keep])
    model = ClockModel(
        offset=a,
        drift_ppm=(b - 1.0) * 1e6,
        residual_rms_s=float(np.sqrt(np.mean(res**2))) if len(res) else float("nan"),
        max_residual_s=float(np.max(np.abs(res))) if len(res) else float("nan"),
        n_used=int(keep.sum()),
        n_rejected=int((~keep).sum()) + int(n_extra_rejected),
        method=method,
    )
    if abs(model.drift_ppm) > max_drift_ppm:
        raise ClockError(
            f"estimated drift {model.drift_ppm:.1f} ppm exceeds max_drift_ppm={max_drift_ppm:g} "
            f"({what}); amplifier clocks drift by tens of ppm, so this is most likely a wrong "
            "match: check the trigger/audio channels and their sampling rates, or raise "
            "max_drift_ppm if the drift is real"
        )
    n_out = int((~keep).sum())
    if n_out > max(2, 0.2 * len(keep)):
        raise ClockError(
            f"{n_out} of {len(keep)} points ({what}) are outliers to the linear clock fit; "
            "the clocks are not related linearly (a clock reset or dropped samples?): split "
            "the recording at the reset and align each part"
        )
    if model.residual_rms_s > max_residual:
        raise ClockError(
            f"clock fit residual {model.residual_rms_s * 1e3:.2f} ms RMS exceeds "
            f"max_residual={max_residual * 1e3:.2f} ms ({what}); the clocks are not related "
            "linearly (a clock reset or a dropped stretch of samples?): split the recording "
            "at the reset, or raise max_residual"
        )
    logger.info(
        "clock model (%s): offset %.6f s, drift %.2f ppm, residual %.3f ms RMS, %d used, "
        "%d rejected", method, model.offset, model.drift_ppm, model.residual_rms_s * 1e3,
        model.n_used, model.n_rejected,
    )  # fmt: skip
    return model
