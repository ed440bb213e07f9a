"""HyPyP 0.6.2's ``pow``, ``behav_corr`` and connectivity indices (see :mod:`.hypyp`)."""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from ..utils import check_random_state

__all__ = [
    "behav_corr",
    "fdr_bh",
    "indices_connectivity_interbrain",
    "indices_connectivity_intrabrain",
    "pow",
]

_EOG = 202  # FIFF.FIFFV_EOG_CH

PSD = namedtuple("PSD", ["freq_list", "psd"])
corr_tuple = namedtuple("corr_tuple", ["r", "pvalue", "strat"])


def _non_eog_names(info) -> list[str]:
    return [ch["ch_name"] for ch in info["chs"] if ch["kind"] != _EOG]


def pow(
    epochs,
    fmin: float,
    fmax: float,
    n_fft: int,
    n_per_seg: int | None,
    epochs_average: bool,
    *,
    bug_compat: bool = False,
):
    """Welch power spectral density of every channel and epoch (HyPyP's ``pow``).

    Parameters
    ----------
    epochs : mne.Epochs
        One participant's epochs. EOG channels are left out.
    fmin, fmax : float
        Frequency range in Hz.
    n_fft : int
        FFT length (segments zero-padded to it).
    n_per_seg : int | None
        Welch segment length (Hamming window); ``None``: ``n_fft``.
    epochs_average : bool
        Average the PSD over epochs.
    bug_compat : bool
        HyPyP drops the EOG channels from the caller's ``epochs`` in place (and, dropping while
        it iterates over the channels, can miss the second of two adjacent EOG channels).
        ``False`` (default) leaves ``epochs`` untouched and leaves every EOG channel out;
        ``True`` reproduces HyPyP's in-place drop.

    Returns
    -------
    psd_tuple : namedtuple ``PSD(freq_list, psd)``
        ``freq_list`` (n_freqs,) in Hz; ``psd`` (n_channels, n_freqs) with
        ``epochs_average``, else (n_epochs, n_channels, n_freqs), in V**2/Hz (MNE's units).

    See Also
    --------
    mne.Epochs.compute_psd : the computation (``method='welch'``, HyPyP's settings).
    """
    if not hasattr(epochs, "info") or not hasattr(epochs, "get_data"):
        raise TypeError(f"epochs must be an mne.Epochs; got {type(epochs).__name__}")
    if bug_compat:
        for ch in epochs.info["chs"]:
            if ch["kind"] == _EOG:
                epochs.drop_channels([ch["ch_name"]])
        ep = epochs
    else:
        keep = _non_eog_names(epochs.info)
        ep = epochs if len(keep) == len(epochs.ch_names) else epochs.copy().pick(keep)
    spectrum = ep.compute_psd(
        method="welch",
        fmin=fmin,
        fmax=fmax,
        n_fft=n_fft,
        n_per_seg=n_per_seg,
        tmin=None,
        tmax=None,
        picks="all",
        exclude=[],
        proj=False,
        remove_dc=True,
        n_jobs=1,
        verbose=False,
    )
    psds = spectrum.get_data()
    psd = np.mean(psds, axis=0) if epochs_average is True else psds
    return PSD(freq_list=spectrum.freqs, psd=psd)


def fdr_bh(pvals) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (``statsmodels`` ``multipletests(method='fdr_bh')``).

    Parameters
    ----------
    pvals : array
        p-values (any shape).

    Returns
    -------
    p_adjusted : ndarray
        Same shape, clipped at 1.
    """
    p = np.asarray(pvals, dtype=float)
    flat = p.ravel()
    order = np.argsort(flat, kind="mergesort")
    n = flat.size
    ranked = flat[order] * n / np.arange(1, n + 1)
    ranked = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty(n)
    out[order] = np.minimum(ranked, 1.0)
    return out.reshape(p.shape)


def _pearson_cells(behav, data):
    """Pearson r and two-sided p (scipy's beta distribution) of ``behav`` with every cell of
    ``data`` (n_obs, ...), all at once; constant cells give NaN (scipy warns)."""
    from scipy import stats

    n = behav.shape[0]
    b = behav - behav.mean()
    d = data - data.mean(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.tensordot(b, d, axes=(0, 0)) / (np.linalg.norm(b) * np.sqrt(np.sum(d * d, axis=0)))
    r = np.clip(r, -1.0, 1.0)
    const = np.ptp(data, axis=0) == 0
    if np.ptp(behav) == 0:
        const = np.ones_like(const)
    if const.any():
        import warnings

        warnings.warn(
            f"{int(const.sum())} connectivity cell(s) (or behav) are constant across "
            "observations: their correlation is undefined (NaN)",
            stats.ConstantInputWarning,
            3,
        )
        r = np.where(const, np.nan, r)
    dist = stats.beta(n / 2 - 1, n / 2 - 1, loc=-1, scale=2)
    p = 2 * dist.sf(np.abs(r))
    return r, p


def behav_corr(
    data,
    behav,
    data_name: str,
    behav_name: str,
    p_thresh: float,
    multiple_corr: bool = True,
    verbose: bool = False,
    *,
    n_permutations: int | None = None,
    random_state=None,
    bug_compat: bool = False,
):
    """Correlation of neural values (or connectivity matrices) with a behavioural score.

    Parameters
    ----------
    data : array, shape (n_obs,) | (n_obs, n_channels, n_channels)
        One value per observation (same shape as ``behav``: Pearson, or Spearman when either
        is not normal by :func:`scipy.stats.normaltest` at 0.05), or one connectivity matrix
        per observation (Pearson per cell).
    behav : array, shape (n_obs,)
        Behavioural score per observation.
    data_name, behav_name : str
        Labels of the scatter plot (``verbose=True``, 1-D data).
    p_thresh : float
        Significance threshold for the connectivity cells kept in ``r``.
    multiple_corr : bool
        FDR (Benjamini-Hochberg) correction over the cells.
    verbose : bool
        Draw the scatter plot (1-D data), as HyPyP.
    n_permutations : int | None
        Extension (not in HyPyP): connectivity cells' p-values from ``n_permutations``
        permutations of ``behav`` (two-sided, ``(1 + #{|r_perm| >= |r|}) / (1 +
        n_permutations)`` per cell) instead of the parametric test; ``None`` (default):
        HyPyP's parametric p-values.
    random_state : None | int | numpy.random.Generator
        Seed of the permutations.
    bug_compat : bool
        HyPyP returns ``None`` for data that is neither 1-D like ``behav`` nor 3-D; here a
        ValueError (default), ``True`` returns ``None`` as HyPyP.

    Returns
    -------
    corr_tuple : namedtuple ``corr_tuple(r, pvalue, strat)``
        1-D data: ``r`` and ``pvalue`` floats, ``strat`` ``'normal'`` or ``'non_normal'``.
        Connectivity data: ``r`` (n_channels, n_channels) with non-significant cells set to
        0, ``pvalue`` (corrected when ``multiple_corr``), ``strat`` HyPyP's string
        (``'correction for multiple comaprison True'``, HyPyP's spelling).

    See Also
    --------
    fdr_bh : the correction.
    """
    from scipy import stats

    data = np.asarray(data)
    behav = np.asarray(behav)
    if data.shape == behav.shape:
        _, pvalue1 = stats.normaltest(data, axis=0)
        _, pvalue2 = stats.normaltest(behav, axis=0)
        if min(pvalue1, pvalue2) < 0.05:
            strat = "non_normal"
            r, pvalue = stats.spearmanr(behav, data, axis=0)
        else:
            strat = "normal"
            r, pvalue = stats.pearsonr(behav, data)
        if verbose:
            import matplotlib.pyplot as plt

            plt.figure()
            plt.scatter(behav, data, label=str(r) + str(pvalue))
            plt.legend(loc="upper right")
            plt.title("Linear correlation between " + behav_name + " and " + data_name)
            plt.xlabel(behav_name)
            plt.ylabel(data_name)
        return corr_tuple(r=r, pvalue=pvalue, strat=strat)
    if data.ndim != 3:
        if bug_compat:
            return None
        raise ValueError(
            "data must have the shape of behav (one value per observation) or be "
            f"(n_obs, n_channels, n_channels); got data {data.shape} and behav {behav.shape}"
        )
    if data.shape[0] != behav.shape[0]:
        raise ValueError(
            f"data has {data.shape[0]} observations but behav has {behav.shape[0]}; give one "
            "behavioural value per connectivity matrix"
        )
    behav = behav.astype(float)
    data = data.astype(float)
    rs, pvals = _pearson_cells(behav, data)
    if n_permutations is not None:
        pvals = _perm_pvalues(behav, data, rs, int(n_permutations), random_state)
    pvalue = fdr_bh(pvals) if multiple_corr is True else pvals
    significant = np.where(pvalue < p_thresh, rs, 0.0)
    r = np.nan_to_num(significant)
    strat = "correction for multiple comaprison " + str(multiple_corr)
    if n_permutations is not None:
        strat += f", {int(n_permutations)} permutations"
    return corr_tuple(r=r, pvalue=pvalue, strat=strat)


def _perm_pvalues(behav, data, r_obs, n_permutations, random_state):
    if n_permutations < 1:
        raise ValueError(
            f"n_permutations must be a positive integer or None; got {n_permutations}"
        )
    rng = check_random_state(random_state)
    count = np.zeros(r_obs.shape)
    absr = np.abs(np.nan_to_num(r_obs, nan=np.inf))
    d = data - data.mean(axis=0)
    dn = np.sqrt(np.sum(d * d, axis=0))
    b0 = behav - behav.mean()
    bn = np.linalg.norm(b0)
    with np.errstate(divide="ignore", invalid="ignore"):
        for _ in range(n_permutations):
            rp = np.tensordot(rng.permutation(b0), d, axes=(0, 0)) / (bn * dn)
            count += np.abs(rp) >= absr - 1e-12
    p = (1.0 + count) / (1.0 + n_permutations)
    return np.where(np.isnan(r_obs), np.nan, p)


def indices_connectivity_intrabrain(epochs) -> list[tuple[int, int]]:
    """All channel pairs ``(i, j)``, ``i < j``, of one participant (EOG channels left out).

    Parameters
    ----------
    epochs : mne.Epochs
        One participant's epochs.

    Returns
    -------
    channels : list of (int, int)
        ``n (n - 1) / 2`` pairs in row order.

    See Also
    --------
    indices_connectivity_interbrain
    """
    n = len(_non_eog_names(epochs.info))
    return [(e1, e2) for e1 in range(n) for e2 in range(e1 + 1, n)]


def indices_connectivity_interbrain(epoch_hyper) -> list[tuple[int, int]]:
    """All inter-brain pairs ``(i, n + j)`` of merged epochs (S1 channels then S2 channels).

    Parameters
    ----------
    epoch_hyper : mne.Epochs
        Both participants' channels in one object (first half S1, second half S2), EOG
        channels left out.

    Returns
    -------
    channels : list of (int, int)
        ``n * n`` pairs, S1 index first.

    See Also
    --------
    indices_connectivity_intrabrain
    """
    n = int(len(_non_eog_names(epoch_hyper.info)) / 2)
    return [(i, n + p) for i in range(n) for p in range(n)]
