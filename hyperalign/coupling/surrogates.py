"""Surrogate data for inter-brain synchrony: the null that synchrony is judged against.

Four ways to break the true temporal correspondence between the two brains while keeping what
could produce spurious synchrony on its own (spectra, autocorrelation, the task structure):

``'circular_shift'``
    :func:`circular_shift`: participant 2's whole recording is rotated in time by a random
    offset (at least ``min_shift`` seconds from zero); every channel moves together, so the
    within-brain structure, the spectrum and the autocorrelation are kept exactly.
``'phase_randomization'``
    :func:`phase_randomize`: Fourier-transform surrogates (Theiler et al. 1992): same amplitude
    spectrum, uniformly random phases. ``multivariate=True`` draws one set of random phases
    shared by all channels (Prichard & Theiler 1994), which keeps the within-brain
    cross-spectra (channel-to-channel coupling) while breaking the coupling to the partner.
``'segment_shuffle'``
    :func:`segment_shuffle`: participant 2's recording is cut into segments that are put back
    in a random order (one permutation for all channels).
``'pseudo_dyads'``
    :func:`make_pseudo_dyads`: a participant is paired with a participant of *another*
    conversation (matched on duration: both are cropped to the shorter one), which keeps
    everything that a shared task or setting could produce except the interaction itself.

:func:`compute_surrogate_sync` computes synchrony on ``n_surrogates`` surrogates with the
same epochs, bands, pairs and lags as :func:`~hyperalign.coupling.dyad_sync.compute_dyad_sync`,
and :func:`surrogate_zscore` expresses an observed :class:`~hyperalign.coupling.results.Coupling`
relative to that null (z-score and percentile, per epoch and per dyad).

For efficiency the time-domain surrogates are applied to participant 2's band-limited analytic
signal, computed once on the whole continuous recording: a circular shift or a segment
permutation commutes with the (time-invariant) band-pass, and multiplying the positive
frequencies of an analytic signal by random unit phases gives exactly the analytic signal of the
phase-randomized band-limited signal. The band-pass therefore runs once, not once per surrogate.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..align.pseudo import make_pseudo_dyads
from ..utils import (
    check_n_jobs,
    check_option,
    check_random_state,
    fill_doc,
    logger,
    progress,
    verbose,
)
from ..utils._validation import renamed_params
from ._engine import _sync_from_prepared
from ._surrogate_signals import (  # noqa: F401 - the signal-level surrogates, public here
    SURROGATE_METHODS,
    _check_n_surrogates,
    _check_signal,
    _draw_shift,
    _segment_permutation,
    circular_shift,
    make_surrogates,
    phase_randomize,
    segment_shuffle,
)
from ._windows import _participant_analytic
from .dyad_sync import _prepare

__all__ = [
    "SURROGATE_METHODS",
    "circular_shift",
    "phase_randomize",
    "segment_shuffle",
    "make_pseudo_dyads",
    "compute_surrogate_sync",
    "surrogate_zscore",
    "null_values",
    "make_surrogates",
]


# --------------------------------------------------------------------------- dyad-level null
@renamed_params(filter="filter_method")
@fill_doc
@verbose
def compute_surrogate_sync(
    dyad,
    method: str = "circular_shift",
    n_surrogates: int = 100,
    *,
    others: Sequence | None = None,
    min_shift: float = 2.0,
    n_segments: int = 10,
    multivariate: bool = True,
    random_state=None,
    return_observed: bool = False,
    verbose=None,
    **sync_kwargs,
):
    """Synchrony of ``n_surrogates`` surrogates of a dyad: the null distribution.

    The surrogates keep participant 1 (``dyad[0]``) and the transcript, and transform
    participant 2; synchrony is then computed with exactly the epochs, bands, channel pairs,
    orientation and lags of :func:`~hyperalign.coupling.dyad_sync.compute_dyad_sync` called
    with ``sync_kwargs``.

    Parameters
    ----------
    dyad : Dyad
        The observed dyad.
    method : 'circular_shift' | 'phase_randomization' | 'segment_shuffle' | 'pseudo_dyads'
        See the module docstring.
    n_surrogates : int
        Number of surrogates (for ``'pseudo_dyads'``, at most ``len(others)``; ``others`` are
        used in order).
    others : sequence of Dyad | None
        Other dyads whose participant 2 replaces this dyad's (``method='pseudo_dyads'`` only).
        The stranger's recording is cut or, when shorter, the epochs past its end are NaN
        (counted in a warning).
    min_shift : float
        Smallest circular shift, in seconds (``'circular_shift'``).
    n_segments : int
        Number of segments (``'segment_shuffle'``).
    multivariate : bool
        Same random phases across participant 2's channels (``'phase_randomization'``).
    random_state : None | int | numpy.random.Generator
        Seed.
    return_observed : bool
        Also return the observed coupling (``compute_dyad_sync(dyad, **sync_kwargs)``),
        computed from the same band-passed signals: ``(observed, null)``.
    %(verbose)s
    **sync_kwargs
        Passed to :func:`~hyperalign.coupling.dyad_sync.compute_dyad_sync` (``metrics``,
        ``bands``, ``epochs``, ``window``, ``lags``, ``min_duration``, ``picks``,
        ``speaker_first``, ``filter_method``, ``n_jobs``...). ``epochs`` given as ``mne.Epochs`` is
        not supported here (surrogates need the continuous recordings).

    Returns
    -------
    null : Coupling
        The surrogates' couplings concatenated along ``epochs`` (``n_surrogates * n_epochs``
        epochs; coordinates ``surrogate`` and ``source_epoch`` say which surrogate and which
        observed epoch each one is, beside the observed epochs' metadata). Use
        :func:`null_values` for a ``(n_surrogates, metric, epochs, ...)`` array and
        :func:`surrogate_zscore` to compare with the observed coupling.
    """
    check_option("method", method, SURROGATE_METHODS)
    n_surrogates = _check_n_surrogates(n_surrogates)
    rng = check_random_state(random_state)
    n_jobs = check_n_jobs(sync_kwargs.pop("n_jobs", None))
    prep = _prepare(dyad, **sync_kwargs)
    prep.extra["n_jobs"] = n_jobs
    if prep.source == "mne":
        raise ValueError(
            "compute_surrogate_sync needs the continuous recordings; got epochs as "
            "mne.Epochs. Use epochs='utterances', 'turns' or 'fixed'"
        )
    z2 = prep.z[1]
    n_times = z2.shape[-1]
    if method == "pseudo_dyads":
        if not others:
            raise ValueError(
                "method='pseudo_dyads' needs others=[Dyad, ...]: dyads whose participant 2 "
                "replaces this dyad's"
            )
        others = [o for o in others if o is not dyad]
        if n_surrogates > len(others):
            raise ValueError(
                f"n_surrogates={n_surrogates} pseudo-dyads asked but only {len(others)} other "
                "dyad(s) given; pass more dyads in others or lower n_surrogates"
            )
    min_shift_s = int(round(float(min_shift) * prep.sfreq))
    results = []
    n_short = 0
    for k in progress(range(n_surrogates), desc=f"surrogates ({method})"):
        if method == "circular_shift":  # the shift circular_shift() draws, without the copy
            if k == 0:
                _check_signal(z2)
            results.append(_sync_from_prepared(prep, shift=_draw_shift(n_times, min_shift_s, rng)))
            continue
        elif method == "segment_shuffle":
            zs = segment_shuffle(z2, n_segments, random_state=rng)
        elif method == "phase_randomization":
            zs = _phase_randomize_analytic(z2, multivariate, rng)
        else:
            zs, short = _stranger_analytic(others[k], prep)
            n_short += short
        results.append(_sync_from_prepared(prep, z2_override=zs))
    if method == "pseudo_dyads" and n_short:
        logger.warning(
            "compute_surrogate_sync: %d pseudo-dyad(s) shorter than dyad %r; epochs past "
            "their end are NaN",
            n_short,
            dyad.dyad_id,
        )
    logger.info(
        "compute_surrogate_sync: %d %s surrogates of dyad %r (%d samples)",
        n_surrogates,
        method,
        dyad.dyad_id,
        n_times,
    )
    null = _stack_surrogates(results, method)
    return (_sync_from_prepared(prep), null) if return_observed else null


def _phase_randomize_analytic(z: np.ndarray, multivariate: bool, rng) -> np.ndarray:
    """Phase-randomize analytic signals z (n_bands, n_channels, n_times) with one phase set per
    frequency shared across bands (the bands come from one real signal)."""
    n = z.shape[-1]
    n_pos = n // 2 + 1
    n_ch = z.shape[-2]
    phi = rng.uniform(0.0, 2.0 * np.pi, size=(1 if multivariate else n_ch, n_pos))
    phi[:, 0] = 0.0
    if n % 2 == 0:
        phi[:, -1] = 0.0
    spec = np.fft.fft(z, axis=-1)
    spec[..., :n_pos] *= np.exp(1j * phi)
    return np.fft.ifft(spec, axis=-1).astype(z.dtype, copy=False)


def _stranger_analytic(other, prep) -> tuple[np.ndarray, int]:
    """Analytic signal of another dyad's participant 2 on this dyad's grid (NaN-padded)."""
    z = _participant_analytic(other[1], prep)
    n = prep.z.shape[-1]
    if z.shape[-1] >= n:
        return z[..., :n], 0
    out = np.full(z.shape[:-1] + (n,), np.nan, dtype=z.dtype)
    out[..., : z.shape[-1]] = z
    return out, 1


def _stack_surrogates(results: list, method: str):
    """Concatenate surrogate Couplings along ``epochs`` (``surrogate``, ``source_epoch``)."""
    import xarray as xr

    from .results import Coupling

    n_ep = results[0].n_epochs
    da = xr.concat([r.xarray for r in results], dim="epochs", coords="different",
                   compat="equals", join="override")  # fmt: skip
    da = da.assign_coords(
        epochs=np.arange(da.sizes["epochs"]),
        surrogate=("epochs", np.repeat(np.arange(len(results)), n_ep)),
        source_epoch=("epochs", np.tile(np.arange(n_ep), len(results))),
    )
    da.attrs = dict(results[0].xarray.attrs)
    da.attrs["surrogate_method"] = method
    da.attrs["n_surrogates"] = len(results)
    da.attrs["n_lag_out"] = int(sum(r.attrs.get("n_lag_out", 0) for r in results))
    return Coupling(da.transpose(*results[0].xarray.dims))


def null_values(null, n_epochs: int | None = None) -> np.ndarray:
    """Values of a surrogate Coupling as ``(n_surrogates, metric, epochs, freqs, lags, in, out)``.

    Parameters
    ----------
    null : Coupling
        From :func:`compute_surrogate_sync` (``surrogate`` and ``source_epoch`` coordinates).
    n_epochs : int | None
        Expected number of observed epochs (checked).

    Returns
    -------
    values : ndarray, shape (n_surrogates, n_metrics, n_epochs, n_freqs, n_lags, n_in, n_out)
        The null values, one block per surrogate, epochs in the observed order.
    """
    da = null.xarray if hasattr(null, "xarray") else null
    if "surrogate" not in da.coords or "source_epoch" not in da.coords:
        raise ValueError(
            "null must come from compute_surrogate_sync (epochs coordinates 'surrogate' and "
            f"'source_epoch'); got coordinates {sorted(da.coords)}"
        )
    sur = da["surrogate"].values.astype(int)
    src = da["source_epoch"].values.astype(int)
    n_s, n_e = sur.max() + 1, src.max() + 1
    if n_epochs is not None and n_e != n_epochs:
        raise ValueError(
            f"the null was computed on {n_e} epochs but the observed coupling has {n_epochs}; "
            "compute both with the same epochs, window and min_duration"
        )
    idx = np.full((n_s, n_e), -1)
    idx[sur, src] = np.arange(sur.size)
    if (idx < 0).any():
        raise ValueError("the null coupling is incomplete (missing surrogate x epoch rows)")
    vals = da.values[:, idx]  # (M, S, E, ...)
    return np.moveaxis(vals, 1, 0)


# --------------------------------------------------------------------------- z-scores
@fill_doc
@verbose
def surrogate_zscore(observed, null, *, level: str = "epoch", verbose=None):
    """Express observed synchrony relative to its surrogate distribution.

    Parameters
    ----------
    observed : Coupling
        From :func:`~hyperalign.coupling.dyad_sync.compute_dyad_sync`.
    null : Coupling
        From :func:`compute_surrogate_sync` with the same settings.
    level : 'epoch' | 'dyad'
        ``'epoch'``: each epoch against the null of the same epoch, band, pair and lag.
        ``'dyad'``: the mean over (non-NaN) epochs against the distribution of the surrogates'
        epoch means (the dyad-level test).
    %(verbose)s

    Returns
    -------
    out : xarray.Dataset
        Dims of the Coupling (``epochs`` of length 1 for ``level='dyad'``); variables ``sync``
        (observed, epoch-averaged for ``'dyad'``), ``null_mean``, ``null_sd``, ``z``
        (``(sync - null_mean) / null_sd``), ``pct`` (percentile of the observed value in the
        null, 0-100: the fraction of surrogates strictly below plus half the ties) and ``p``
        (one-sided, ``(1 + #(null >= sync)) / (1 + n_surrogates)``).
    """
    import xarray as xr

    check_option("level", level, ("epoch", "dyad"))
    obs = observed.xarray if hasattr(observed, "xarray") else observed
    nul = null.xarray if hasattr(null, "xarray") else null
    s = null_values(nul, obs.sizes["epochs"])
    if s.shape[1:] != obs.shape:
        raise ValueError(
            f"observed and null differ in shape: observed {dict(obs.sizes)} vs null "
            f"{s.shape[1:]} per surrogate; compute the null with the same metrics, bands, "
            "lags and picks"
        )
    for d in ("metric", "freqs", "lags", "node_in", "node_out"):
        if not np.array_equal(np.asarray(obs[d].values), np.asarray(nul[d].values)):
            raise ValueError(
                f"observed and null have different {d!r} coordinates: "
                f"{list(obs[d].values)[:5]} vs {list(nul[d].values)[:5]}"
            )
    o = obs.values
    if level == "dyad":
        with np.errstate(invalid="ignore"):
            import warnings

            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                o = np.nanmean(o, axis=1, keepdims=True)
                s = np.nanmean(s, axis=2, keepdims=True)
    z, pct, p, mu, sd = _z_pct(o, s)
    if level == "dyad":
        coords = {k: v for k, v in obs.coords.items() if "epochs" not in v.dims}
        coords["epochs"] = [-1]
    else:
        coords = dict(obs.coords)
    ds = xr.Dataset(
        {name: (obs.dims, arr) for name, arr in
         [("sync", o), ("null_mean", mu), ("null_sd", sd), ("z", z), ("pct", pct), ("p", p)]},
        coords=coords,
    )  # fmt: skip
    ds.attrs = {
        "n_surrogates": int(s.shape[0]),
        "method": nul.attrs.get("surrogate_method", ""),
        "level": level,
        "dyad_id": obs.attrs.get("dyad_id", ""),
    }
    return ds


def _z_pct(o: np.ndarray, s: np.ndarray):
    """z, percentile, p, mean, sd of observed ``o`` against null ``s`` (leading surrogate axis)."""
    valid = np.isfinite(s)
    n = valid.sum(0)
    import warnings

    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mu = np.nanmean(s, axis=0)
        sd = np.nanstd(s, axis=0, ddof=1)
        z = (o - mu) / sd
        below = np.sum(valid & (s < o), axis=0)
        ties = np.sum(valid & (s == o), axis=0)
        pct = 100.0 * (below + 0.5 * ties) / n
        p = (1.0 + np.sum(valid & (s >= o), axis=0)) / (1.0 + n)
    bad = ~np.isfinite(o) | (n < 2)
    for arr in (z, pct, p):
        arr[bad] = np.nan
    return z, pct, p, mu, sd
