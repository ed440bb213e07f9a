"""Synchrony kernels and the metric registry (:data:`METRICS`).

The definitions are documented in :mod:`hyperalign.coupling.metrics`; this module holds the
kernels (analytic signals of one band -> one value per epoch and channel pair) and the
registry that maps names and aliases to them, so that the containers
(:mod:`~hyperalign.coupling.results`) can resolve metric names without importing the drivers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..utils._validation import _validate_type


# ------------------------------------------------------------------------------------------
# kernels: x (E, C1, T), y (E, C2, T) complex -> (E, C1, C2) real
# Intermediates shared by several metrics (unit phasors, cross-spectra) are computed once per
# band and lag through a _Pair context.
# ------------------------------------------------------------------------------------------
def _outer(a, b):
    return a[..., :, None] * b[..., None, :]


class _Pair:
    """Lazily computed intermediates of one (x, y) pair, shared between metrics."""

    def __init__(self, ops, x, y, n_valid=None):
        self.ops, self.x, self.y = ops, x, y
        self.same = x is y
        self.n_t = x.shape[-1]
        #: ragged epochs: samples t >= n_valid[e] of epoch e are zero padding (None: none)
        self.n_valid = None if n_valid is None else np.asarray(n_valid, dtype=np.int64)
        self._memo: dict = {}

    @property
    def n_samples(self):
        """Samples per epoch, broadcastable against (E, C1, C2) results."""
        if self.n_valid is None:
            return self.n_t
        return self._get(
            "n_samples", lambda: self.ops.asarray(self.n_valid.astype(float)[:, None, None])
        )

    def _get(self, key, fn):
        if key not in self._memo:
            self._memo[key] = fn()
        return self._memo[key]

    @property
    def u(self):  # unit phasors of x (0 on the zero padding)
        return self._get("u", lambda: self.ops.unit(self.x, self.n_valid))

    @property
    def v(self):
        return self.u if self.same else self._get("v", lambda: self.ops.unit(self.y, self.n_valid))

    @property
    def cross(self):  # sum_t x conj(y)
        ops = self.ops
        return self._get("cross", lambda: ops.matmul(self.x, ops.mT(ops.conj(self.y))))

    @property
    def cross_imag(self):  # Im sum_t x conj(y)
        if "cross" in self._memo:
            return self._memo["cross"].imag
        ops = self.ops

        def f():
            # Im(x conj y) = xr (-yi) + xi yr: one real product of the interleaved (re, im)
            # views of x and of i*y (inner dimension 2T), no copy of x
            return ops.matmul(ops.real_view(self.x), ops.mT(ops.real_view(ops.times_i(self.y))))

        return self._get("cross_imag", f)

    @property
    def cross_unit(self):  # sum_t u conj(v)
        ops = self.ops
        return self._get("cross_unit", lambda: ops.matmul(self.u, ops.mT(ops.conj(self.v))))

    @property
    def power_norm(self):  # sqrt(sum|x|^2 sum|y|^2)
        ops = self.ops

        def f():
            px = ops.power(self.x)
            py = px if self.same else ops.power(self.y)
            return ops.sqrt(_outer(px, py))

        return self._get("power_norm", f)

    def im_sums(self, op):  # sum_t sign / abs of Im(x conj y)
        return self._get(f"im_{op}", lambda: self.ops.im_sums(self.x, self.y, op))


def _plv(p: _Pair):
    return p.ops.abs(p.cross_unit) / p.n_samples


def _centered_sin(p: _Pair, which: str):
    """``sin(phase - circular mean phase)`` of x or y: from the shared unit phasors when another
    metric already made them, else in one fused pass (``ops.centered_sin``)."""
    key = "u" if which == "x" else "v"
    if key in p._memo or (which == "y" and p.same and "u" in p._memo):
        from .backend import centered_sin_from_unit

        return centered_sin_from_unit(p.ops, p.u if which == "x" else p.v)
    return p.ops.centered_sin(p.x if which == "x" else p.y, p.n_valid)


def _ccorr_signed(p: _Pair):
    ops = p.ops
    sx = p._get("csin_x", lambda: _centered_sin(p, "x"))
    sy = sx if p.same else p._get("csin_y", lambda: _centered_sin(p, "y"))
    num = ops.matmul(sx, ops.mT(sy))
    nx = ops.sum(sx * sx, -1)
    ny = nx if p.same else ops.sum(sy * sy, -1)
    return num / ops.sqrt(_outer(nx, ny))


def _ccorr(p: _Pair):
    return p.ops.abs(_ccorr_signed(p))


def _accorr(p: _Pair):
    ops, n_t = p.ops, p.n_samples
    u, v = p.u, p.v
    cc = p.cross_unit  # <u conj v>
    cp = ops.matmul(u, ops.mT(v))  # <u v>
    num = ops.abs(cc) - ops.abs(cp)
    md, ms = ops.angle(cc), ops.angle(cp)
    # per-pair centering as HyPyP: m = md + n, n = -(md - ms) / 2
    n_adj = -(md - ms) / 2
    m_adj = md + n_adj
    # sum_t sin^2(a - m) = T/2 - Re(exp(-2im) sum_t u^2) / 2
    su2 = ops.sum(u * u, -1)  # (E, C1)
    sv2 = ops.sum(v * v, -1)  # (E, C2)
    sx = n_t / 2 - (ops.exp(-2j * m_adj) * su2[..., :, None]).real / 2
    sy = n_t / 2 - (ops.exp(-2j * n_adj) * sv2[..., None, :]).real / 2
    den = 2 * ops.sqrt(sx * sy)
    return num / ops.where_zero(den)


def _coh(p: _Pair):
    return p.ops.abs(p.cross) / p.power_norm


def _coh_squared(p: _Pair):
    return _coh(p) ** 2


def _imcoh_signed(p: _Pair):
    return p.cross_imag / p.power_norm


def _imcoh(p: _Pair):
    return p.ops.abs(_imcoh_signed(p))


def _pli(p: _Pair):
    return p.ops.abs(p.im_sums("sign")) / p.n_samples


def _wpli(p: _Pair):
    if "cross_imag" not in p._memo and "cross" not in p._memo and "im_abs" not in p._memo:
        both = p.ops.im_abs_and_sum(p.x, p.y)  # one compiled pass for both sums (numba)
        if both is not None:
            p._memo["im_abs"], p._memo["cross_imag"] = both
    num = p.ops.abs(p.cross_imag)
    return num / p.ops.where_zero(p.im_sums("abs"))


def _unit_env_corr(p: _Pair, power: bool):
    """Pearson correlation of envelopes as one product of centred, unit-norm rows."""
    ops = p.ops
    a = ops.unit_envelope(p.x, power, p.n_valid)
    b = a if p.same else ops.unit_envelope(p.y, power, p.n_valid)
    return ops.matmul(a, ops.mT(b))


def _envelope_corr(p: _Pair):
    return _unit_env_corr(p, power=False)


def _pow_corr(p: _Pair):
    return _unit_env_corr(p, power=True)


@dataclass(frozen=True)
class MetricInfo:
    """One registered synchrony metric (an entry of :data:`METRICS`).

    Parameters
    ----------
    name : str
        Canonical name (lower case), the key in :data:`METRICS`.
    func : callable
        The kernel: takes the shared intermediates of one pair of analytic signals and
        returns one value per epoch and channel pair, ``(n_epochs, C1, C2)``.
    aliases : tuple of str
        Other names that :func:`resolve_metric` maps to ``name``.
    hypyp : str | None
        The HyPyP mode (``hypyp.analyses.compute_sync``) that gives the same values, or
        ``None`` when HyPyP has no such metric.
    signed : bool
        Whether values can be negative.
    description : str
        One line, for listings.

    See Also
    --------
    resolve_metric, compute_sync
    """

    name: str
    func: Callable
    aliases: tuple[str, ...] = ()
    hypyp: str | None = None  #: HyPyP mode that gives the same values (None: not in HyPyP)
    signed: bool = False
    description: str = ""

    def __call__(self, ops, x, y):
        """Compute the metric for analytic signals ``x`` (E, C1, T) and ``y`` (E, C2, T)."""
        return self.func(_Pair(ops, x, y))


METRICS: dict[str, MetricInfo] = {
    m.name: m
    for m in [
        MetricInfo("plv", _plv, (), "plv", False, "phase locking value"),
        MetricInfo("ccorr", _ccorr, (), "ccorr", False, "circular correlation, |r| (HyPyP)"),
        MetricInfo("ccorr_signed", _ccorr_signed, (), None, True, "circular correlation, signed"),
        MetricInfo("accorr", _accorr, (), "accorr", True, "adjusted circular correlation"),
        MetricInfo("coh", _coh, (), "coh", False, "coherence magnitude |C| (HyPyP, unsquared)"),
        MetricInfo(
            "coh_squared", _coh_squared, ("msc",), None, False, "magnitude-squared coherence"
        ),
        MetricInfo(
            "imcoh", _imcoh, ("imaginary_coh",), "imcoh", False, "|imaginary coherence| (HyPyP)"
        ),
        MetricInfo("imcoh_signed", _imcoh_signed, (), None, True, "imaginary coherence, signed"),
        MetricInfo("pli", _pli, (), "pli", False, "phase lag index"),
        MetricInfo("wpli", _wpli, (), "wpli", False, "weighted phase lag index"),
        MetricInfo(
            "envelope_corr", _envelope_corr, ("envcorr",), "envelope_corr", True, "envelope r"
        ),
        MetricInfo("pow_corr", _pow_corr, ("powcorr",), "pow_corr", True, "power correlation r"),
    ]
}
_ALIASES = {a: m.name for m in METRICS.values() for a in m.aliases}


def resolve_metric(name: str) -> str:
    """Return the canonical metric name for ``name`` (case-insensitive, aliases accepted).

    Parameters
    ----------
    name : str
        A metric name or alias from :data:`METRICS` (``'PLV'``, ``'msc'``, ``'envcorr'``...).

    Returns
    -------
    name : str
        The canonical name, a key of :data:`METRICS`. An unknown name is an error listing
        the allowed names (and the closest one).

    See Also
    --------
    MetricInfo, compute_sync
    """
    _validate_type(name, str, "a metric name", "a str")
    key = name.lower()
    key = _ALIASES.get(key, key)
    if key not in METRICS:
        import difflib

        allowed = sorted(METRICS) + sorted(_ALIASES)
        close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ValueError(f"unknown metric {name!r}{hint}; allowed metrics are {allowed}")
    return key


def _resolve_metrics(metrics) -> list[str]:
    if isinstance(metrics, str):
        metrics = [metrics]
    out = []
    for m in metrics:
        k = resolve_metric(m)
        if k not in out:
            out.append(k)
    if not out:
        raise ValueError(f"metrics must name at least one of {sorted(METRICS)}; got none")
    return out
