"""Band specifications: the default bands, the filter names and their validation.

Kept below both :mod:`hyperalign.coupling.spectral` (the band-pass) and
:mod:`hyperalign.coupling.bands` (measured band edges and overlap checks), which import it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

__all__ = ["DEFAULT_BANDS", "FILTERS", "check_bands"]

DEFAULT_BANDS: dict[str, tuple[float, float]] = {
    "delta": (1.0, 4.0),
    "theta": (4.0, 8.0),
    "alpha": (8.0, 13.0),
    "beta": (13.0, 30.0),
    "gamma": (30.0, 45.0),
}

FILTERS = ("hypyp", "fft")


def check_bands(bands, sfreq: float) -> dict[str, tuple[float, float]]:
    """Validate frequency bands and return them as an ordered ``{name: (fmin, fmax)}`` dict.

    Parameters
    ----------
    bands : dict | sequence of (fmin, fmax) | None
        ``{'alpha': (8, 13), ...}``, a list of ``(fmin, fmax)`` pairs (named ``'fmin-fmax'``),
        or ``None`` for :data:`DEFAULT_BANDS`.
    sfreq : float
        Sampling frequency in Hz (every ``fmax`` must be below Nyquist).

    Returns
    -------
    bands : dict
        Band name -> ``(fmin, fmax)`` as floats.
    """
    if bands is None:
        bands = DEFAULT_BANDS
    if isinstance(bands, Mapping):
        items = list(bands.items())
    elif isinstance(bands, Sequence) and not isinstance(bands, str):
        if len(bands) == 2 and all(np.isscalar(b) for b in bands):
            bands = [bands]
        items = [(f"{float(lo):g}-{float(hi):g}", (lo, hi)) for lo, hi in bands]
    else:
        raise TypeError(
            "bands must be a dict {'name': (fmin, fmax)} or a list of (fmin, fmax) pairs; "
            f"got {type(bands).__name__}"
        )
    if not items:
        raise ValueError("bands must name at least one band; got an empty collection")
    out: dict[str, tuple[float, float]] = {}
    nyq = float(sfreq) / 2.0
    for name, lim in items:
        try:
            lo, hi = (float(v) for v in lim)
        except (TypeError, ValueError):
            raise ValueError(
                f"band {name!r} must be a pair (fmin, fmax) of numbers; got {lim!r}"
            ) from None
        if not (0 < lo < hi < nyq):
            raise ValueError(
                f"band {name!r} must satisfy 0 < fmin < fmax < sfreq/2 = {nyq:g} Hz; "
                f"got ({lo:g}, {hi:g})"
            )
        out[str(name)] = (lo, hi)
    return out
