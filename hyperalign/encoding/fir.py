"""FIR encoding for slow signals: fMRI ROI series, fNIRS HbO + HbR as joint targets.

Word (or any event) features are brought to the acquisition rate - Lanczos-windowed sinc
interpolation (as the Huth lab does for fMRI) or averaging within each acquisition -
copied into speaking and listening spaces (the participant's own words, the partner's),
delayed by a few acquisitions (e.g. 0-5 TRs for fMRI, 0-15 s for fNIRS) without crossing a
run boundary, and fitted by nested (banded) ridge with folds purged by the delay span or
held out by run.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..utils import check_option, fill_doc, logger, verbose
from .delays import make_delayed
from .result import EncodingResult

__all__ = ["lanczos_resample", "average_resample", "event_features", "fit_fir"]


def lanczos_resample(values, times, new_times, *, window: int = 3, cutoff_mult: float = 1.0):
    """Lanczos-windowed sinc interpolation of (irregular) samples onto ``new_times``.

    ``out[k] = sum_j L(new_times[k] - times[j]) values[j]`` with
    ``L(t) = a sin(pi u) sin(pi u / a) / (pi u)^2``, ``u = t * fc``, ``fc`` the output rate
    times ``cutoff_mult`` and ``a = window`` lobes (Huth et al. 2016's ``lanczosinterp2D``).

    Parameters
    ----------
    values : ndarray, shape (n, d)
        Samples (e.g. one row per word).
    times : ndarray, shape (n,)
        Their times (s).
    new_times : ndarray, shape (m,)
        Output times (s), regularly spaced (acquisition times).
    window : int
        Lobes of the Lanczos window.
    cutoff_mult : float
        Cutoff relative to the output rate.

    Returns
    -------
    out : ndarray, shape (m, d)
        The interpolated samples.
    """
    v = np.asarray(values, dtype=float)
    v = v[:, None] if v.ndim == 1 else v
    nt = np.asarray(new_times, dtype=float)
    fc = cutoff_mult / float(np.mean(np.diff(nt)))
    u = (nt[:, None] - np.asarray(times, dtype=float)[None, :]) * fc
    with np.errstate(invalid="ignore", divide="ignore"):
        L = window * np.sin(np.pi * u) * np.sin(np.pi * u / window) / (np.pi**2 * u**2)
    L[u == 0] = 1.0
    L[np.abs(u) > window] = 0.0
    return L @ v


def average_resample(values, times, n_acq: int, sfreq: float):
    """Mean of the samples in each acquisition ``[k / sfreq, (k + 1) / sfreq)`` (0 if none).

    Parameters
    ----------
    values : ndarray, shape (n,) | (n, d)
        Samples (e.g. one row per word).
    times : ndarray, shape (n,)
        Their times (s).
    n_acq : int
        Number of acquisitions.
    sfreq : float
        Acquisition rate (Hz; ``1 / TR``).

    Returns
    -------
    out : ndarray, shape (n_acq, d)
        Mean of the samples in each acquisition; 0 where there is none (samples outside the
        acquisitions are ignored).
    """
    v = np.asarray(values, dtype=float)
    v = v[:, None] if v.ndim == 1 else v
    k = np.floor(np.asarray(times, dtype=float) * sfreq).astype(int)
    ok = (k >= 0) & (k < n_acq)
    out = np.zeros((n_acq, v.shape[1]))
    cnt = np.bincount(k[ok], minlength=n_acq).astype(float)
    np.add.at(out, k[ok], v[ok])
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(cnt[:, None] > 0, out / np.maximum(cnt, 1)[:, None], 0.0)


def event_features(
    values,
    times,
    speakers,
    *,
    participant: str,
    n_acq: int,
    sfreq: float,
    method: str = "lanczos",
    name: str = "features",
) -> dict[str, np.ndarray]:
    """Speaking and listening copies of per-word features at the acquisition rate.

    Parameters
    ----------
    values : ndarray, shape (n_words, d)
        Word features (rows of the transcript's words).
    times : ndarray, shape (n_words,)
        Word onsets (s).
    speakers : array-like of str
        Speaker of each word.
    participant : str
        The modelled participant: their words go to ``speak_<name>``, others' to
        ``listen_<name>``.
    n_acq : int
        Number of acquisitions.
    sfreq : float
        Acquisition rate (Hz; ``1 / TR``).
    method : 'lanczos' | 'average'
        Resampling.
    name : str
        Space name.

    Returns
    -------
    spaces : dict of str to ndarray (n_acq, d)
        ``speak_<name>`` and ``listen_<name>`` feature spaces.
    """
    check_option("method", method, ("lanczos", "average"))
    v = np.asarray(values, dtype=float)
    v = v[:, None] if v.ndim == 1 else v
    t = np.asarray(times, dtype=float)
    own = np.asarray(speakers).astype(str) == participant
    out = {}
    for key, m in ((f"speak_{name}", own), (f"listen_{name}", ~own)):
        if method == "lanczos":
            out[key] = lanczos_resample(v[m], t[m], np.arange(n_acq) / sfreq)
        else:
            out[key] = average_resample(v[m], t[m], n_acq, sfreq)
    return out


def _targets(Y, picks):
    if hasattr(Y, "get_data") and hasattr(Y, "info"):
        from mne._fiff.pick import _picks_to_idx

        pk = _picks_to_idx(Y.info, "data" if picks is None else picks, exclude="bads")
        return Y.get_data(picks=pk).T, [Y.ch_names[i] for i in pk], float(Y.info["sfreq"])
    arr = np.asarray(Y, dtype=float)
    arr = arr[:, None] if arr.ndim == 1 else arr
    return arr, [f"y{i}" for i in range(arr.shape[1])], None


@fill_doc
@verbose
def fit_fir(
    Y,
    features: dict,
    *,
    sfreq: float | None = None,
    delays=(0, 5),
    runs=None,
    cv=None,
    inner_cv: int = 4,
    alphas=None,
    picks=None,
    n_permutations: int = 0,
    random_state=None,
    backend: str = "numpy",
    verbose=None,
) -> EncodingResult:
    """FIR encoding of slow signals: delayed features predict every target, out of fold.

    Parameters
    ----------
    Y : ndarray (n_acq, n_targets) | mne.io.Raw
        The fMRI ROI series or fNIRS HbO and HbR channels (all fitted jointly as targets).
    features : dict of str to ndarray (n_acq, d)
        Feature spaces at the acquisition rate (e.g. from :func:`event_features`: speaking
        and listening copies); several spaces are fitted by banded ridge.
    sfreq : float | None
        Acquisition rate (Hz); taken from a Raw when ``None``.
    delays : (int, int) | array-like of int
        Delays in acquisitions: ``(first, last)`` inclusive (``(0, 5)`` = 0-5 TRs; for fNIRS
        at 7.8 Hz, ``(0, 117)`` spans 0-15 s) or an explicit increasing list.
    runs : array-like | None
        Run label of each acquisition: delays never cross runs, and with >= 2 runs the
        folds leave one run out.
    cv : int | Folds | None
        Outer folds (default: runs if given, else 5 contiguous blocks purged by the delay
        span).
    inner_cv : int
        Inner blocks for the penalty search.
    alphas : array-like | None
        Penalty grid.
    %(picks)s
    n_permutations : int
        Nulls refitted through the same pipeline (adds ``p``, ``p_fwer``, ``p_fdr``).
    %(random_state)s
    %(backend)s
    %(verbose)s

    Returns
    -------
    result : EncodingResult
        ``r``, ``r2`` (target), ``fold_r``, ``alpha``, ``split_r2`` (several spaces),
        ``coef`` (feature x lag x target, one space).

    See Also
    --------
    event_features : Speaking and listening features at the acquisition rate.
    fit_trf : The same for fast signals (EEG, MEG).
    """
    from ._wordfit import fit_word_arrays
    from .splitters import make_folds, make_group_folds

    Yarr, names, sf = _targets(Y, picks)
    sfreq = sf if sfreq is None else float(sfreq)
    if sfreq is None:
        raise ValueError("sfreq must be given (acquisitions per second) with array targets")
    n = Yarr.shape[0]
    d = np.asarray(delays, dtype=int)
    d = (
        np.arange(d[0], d[1] + 1)
        if d.size == 2 and np.ndim(delays) == 1 and d[1] > d[0] + 1
        else d
    )
    if np.any(np.diff(d) <= 0):
        raise ValueError(f"delays must increase; got {d.tolist()}")
    seg = None
    if runs is not None:
        runs = np.asarray(runs)
        if len(runs) != n:
            raise ValueError(f"runs has {len(runs)} labels for {n} acquisitions")
        seg = np.flatnonzero(runs[1:] != runs[:-1]) + 1
    spaces = {}
    for k, X in features.items():
        X = np.asarray(X, dtype=float)
        X = X[:, None] if X.ndim == 1 else X
        if X.shape[0] != n:
            raise ValueError(
                f"features[{k!r}] has {X.shape[0]} rows but Y has {n} acquisitions; resample "
                "the features to the acquisition rate (event_features)"
            )
        spaces[k] = make_delayed(X, d, segments=seg)
    times = np.arange(n) / sfreq
    span = (d.max() - min(d.min(), 0) + 1) / sfreq
    if cv is None:
        if runs is not None and len(np.unique(runs)) >= 2:
            cv = make_group_folds(runs)
        else:
            cv = make_folds(times, 5, gap=span)
    groups = runs
    fa = fit_word_arrays(
        spaces, Yarr, times, span=span, cv=cv, inner_cv=inner_cv, alphas=alphas,
        n_permutations=n_permutations, random_state=random_state, backend=backend,
        return_coefs=len(spaces) == 1, groups=groups,
    )  # fmt: skip
    ds = _fir_dataset(fa, Yarr, names, d / sfreq, spaces, features)
    ds.attrs.update({"estimator": "fir", "sfreq": sfreq, "delays": d.tolist(),
                     "n_acq": int(n), "spaces": list(spaces),
                     "runs": "none" if runs is None else len(np.unique(runs))})  # fmt: skip
    logger.info("fit_fir: %d targets, max r %.3f", len(names), float(np.nanmax(fa["r"])))
    return EncodingResult(ds)


def _fir_dataset(fa, Yarr, names, lag_s, spaces, features) -> xr.Dataset:
    out, folds = fa["out"], fa["folds"]
    data = {
        "r": (("target",), fa["r"]),
        "r2": (("target",), fa["r2"]),
        "fold_r": (("fold", "target"), np.asarray(out["fold_r"])),
        "n_test": (("fold",), np.array([len(te) for _, te in folds])),
    }
    coords = {"target": names, "fold": np.arange(len(folds)), "lag": lag_s}
    alpha = np.asarray(out["alpha"])
    if alpha.shape[1] == 1:
        data["alpha"] = (("fold", "target"), alpha[:, 0])
    else:
        coords["space"] = list(spaces)
        data["alpha"] = (("fold", "space", "target"), alpha)
    if out["split"] is not None:
        from .significance import split_r2

        coords["space"] = list(spaces)
        data["split_r2"] = (("space", "target"), split_r2(Yarr, out["split"], folds))
    if out["coefs"] is not None:
        c = np.nanmean(np.asarray(out["coefs"]), axis=0)  # (F*L, C)
        F = next(iter(features.values()))
        F = 1 if np.ndim(F) == 1 else np.shape(F)[1]
        data["coef"] = (("feature", "lag", "target"), c.reshape(F, len(lag_s), -1))
        coords["feature"] = np.arange(F)
    for k in ("p", "p_fwer", "p_fdr"):
        if k in fa:
            data[k] = (("target",), fa[k])
    return xr.Dataset(data, coords=coords)
