"""fNIRS hyperscanning studies as HyPyP 0.6 runs them: wavelet coherence per channel pair.

A :class:`FnirsStudy` holds dyads (:class:`FnirsDyad`: two haemoglobin recordings on one
clock, an optional channel -> region-of-interest map). :meth:`FnirsStudy.compute_wtcs` computes
the wavelet transform coherence (WTC) of every inter-brain channel pair (S1 channel x S2
channel) and, with ``with_intra``, of every intra-brain pair of each participant, with HyPyP's
default wavelet (:func:`wavelet_coherence_hypyp`: pywavelets' complex Morlet ``cmor2,1``,
Fourier periods 2-20 s at 12 voices per octave, Gaussian smoothing in time and a 1.2-scale
boxcar in scale, cone of influence). Each WTC is summarised like HyPyP: the mean coherence
inside the cone of influence per time bin x period bin (NaN when more than half the bin is
outside the cone), and kept as a time series (coherence per period bin over time).

Results: :meth:`FnirsStudy.to_data_frame` is HyPyP's coherence data frame (same columns, one
row per pair x bin); :meth:`FnirsStudy.coherence_matrix` the inter- or intra-brain matrix per
channel or ROI (mean over dyads); :meth:`FnirsStudy.time_series` the coherence over time of one
pair. Plots: :func:`plot_coherence_matrix`, :func:`plot_coherence_time_series`,
:func:`plot_wtc`. :func:`read_fnirs_haemo` reads a NIRx/SNIRF recording to HbO/HbR
(optical density, modified Beer-Lambert law).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..utils import check_option, fill_doc, logger, verbose
from ..utils._validation import renamed_params
from .fnirs_wavelet import WaveletCoherence, _coherence, _transform, wavelet_coherence_hypyp
from .plot import plot_coherence_matrix, plot_coherence_time_series, plot_wtc

__all__ = [
    "COHERENCE_COLUMNS",
    "FnirsDyad",
    "FnirsStudy",
    "WaveletCoherence",
    "plot_coherence_matrix",
    "plot_coherence_time_series",
    "plot_wtc",
    "read_fnirs_haemo",
    "wavelet_coherence_hypyp",
]

#: HyPyP's ``CoherenceDataFrame`` columns, in its order
COHERENCE_COLUMNS = [
    "dyad", "is_intra", "is_intra_of", "is_pseudo", "subject1", "subject2", "roi1", "roi2",
    "channel1", "channel2", "task", "epoch", "section", "bin", "coherence", "coherence_masked",
    "bin_time_range", "bin_period_range", "wavelet_library", "wavelet_name",
]  # fmt: skip


# ------------------------------------------------------------------------------------------
# reading
# ------------------------------------------------------------------------------------------
@fill_doc
@verbose
def read_fnirs_haemo(
    path,
    *,
    ppf: float = 6.0,
    l_freq: float | None = 0.02,
    h_freq: float | None = 0.7,
    sci_threshold: float = 0.1,
    exclusions=None,
    verbose=None,
):
    """Read an fNIRS recording (NIRx folder or SNIRF file) as HbO/HbR concentrations.

    HyPyP 0.6's ``MnePreprocessorRawToHaemo`` steps: optical density, channels whose scalp
    coupling index is below ``sci_threshold`` dropped (counted in ``exclusions``), modified
    Beer-Lambert law (partial pathlength factor ``ppf``), IIR band-pass ``l_freq``-``h_freq``.

    Parameters
    ----------
    path : path-like
        NIRx folder or ``.snirf`` file.
    ppf : float
        Partial pathlength factor.
    l_freq, h_freq : float | None
        Band-pass edges in Hz (``None``: no filtering on that side).
    sci_threshold : float
        Minimum scalp coupling index of a kept channel.
    exclusions : ExclusionLog | None
        Where dropped channels are recorded (stage ``'fnirs'``).
    %(verbose)s

    Returns
    -------
    raw : mne.io.Raw
        ``hbo`` and ``hbr`` channels.
    """
    from itertools import compress
    from pathlib import Path

    import mne

    path = Path(path)
    if path.suffix == ".snirf":
        raw = mne.io.read_raw_snirf(path, preload=True, verbose=False)
    else:
        raw = mne.io.read_raw_nirx(path, preload=True, verbose=False)
    od = mne.preprocessing.nirs.optical_density(raw, verbose=False)
    sci = mne.preprocessing.nirs.scalp_coupling_index(od, verbose=False)
    bads = list(compress(od.ch_names, sci < sci_threshold))
    if bads:
        logger.warning(
            "read_fnirs_haemo: %d channel(s) with SCI < %g dropped", len(bads), sci_threshold
        )
        if exclusions is not None:
            exclusions.add("fnirs", "channel", ",".join(bads), f"SCI < {sci_threshold}", len(bads))
    od.info["bads"] = bads
    od = od.copy().pick(mne.pick_types(od.info, fnirs=True, exclude="bads"))
    haemo = mne.preprocessing.nirs.beer_lambert_law(od, ppf=ppf)
    if l_freq is not None or h_freq is not None:
        haemo = haemo.filter(l_freq, h_freq, method="iir", verbose=False)
    return haemo


# ------------------------------------------------------------------------------------------
# dyads and studies
# ------------------------------------------------------------------------------------------
@dataclass
class FnirsDyad:
    """Two fNIRS recordings on one clock.

    Parameters
    ----------
    s1, s2 : mne.io.Raw
        Haemoglobin (or any) recordings with the same sampling rate.
    label : str
        Dyad label.
    subject_labels : (str, str)
        Participant labels (e.g. ``('parent', 'child')``).
    rois : dict | None
        ``{roi_name: [channel names]}``; channels in no ROI get ``''`` (HyPyP).
    is_pseudo : bool
        A pseudo-dyad (recordings of two different dyads, a null for inter-brain coherence).
    tasks : dict | None
        ``{task_name: [(tmin, tmax), ...]}`` in seconds: each window is a separate epoch of
        that task (rows carry ``task`` and ``epoch``), HyPyP's tasks; ``None``: the whole
        recording (task ``'whole_record'``).
    """

    s1: object
    s2: object
    label: str = "dyad"
    subject_labels: tuple[str, str] = ("S1", "S2")
    rois: dict | None = None
    is_pseudo: bool = False
    tasks: dict | None = None

    def segments(self, sfreq: float, n_times: int) -> list[tuple[str, int, slice]]:
        """``(task, epoch, samples)`` of every task window (HyPyP's epochs per task).

        Parameters
        ----------
        sfreq : float
            Sampling rate of the recordings (Hz).
        n_times : int
            Number of samples of the recordings; a window outside them is an error.

        Returns
        -------
        segments : list of (str, int, slice)
            Task name, epoch index within the task and the samples of each window; one
            ``('whole_record', 0, slice(0, n_times))`` when ``tasks`` is ``None``.
        """
        if self.tasks is None:
            return [("whole_record", 0, slice(0, n_times))]
        out = []
        for name, windows in self.tasks.items():
            windows = [windows] if np.isscalar(windows[0]) else windows
            for e, (tmin, tmax) in enumerate(windows):
                a, b = int(round(tmin * sfreq)), int(round(tmax * sfreq))
                if not 0 <= a < b <= n_times:
                    raise ValueError(
                        f"dyad {self.label!r}: task {name!r} window ({tmin}, {tmax}) s is "
                        f"outside the recording (0-{n_times / sfreq:g} s) or empty"
                    )
                out.append((str(name), e, slice(a, b)))
        return out

    def roi_of(self, ch_name: str) -> str:
        """The ROI of a channel.

        Parameters
        ----------
        ch_name : str
            A channel name.

        Returns
        -------
        roi : str
            The first ROI of ``rois`` that lists the channel, ``''`` when none does (HyPyP).
        """
        for roi, chans in (self.rois or {}).items():
            if ch_name in chans:
                return roi
        return ""


def _split_nan(y1, y2, min_len=10):
    """HyPyP's NaN sections: index arrays of the samples of each section."""
    bad = np.isnan(y1) | np.isnan(y2)
    if not bad.any():
        return [np.arange(y1.size)]
    idx = np.arange(y1.size)
    parts = [p for p in np.split(idx, np.flatnonzero(bad) + 1) if len(p) > min_len]
    return [p[~bad[p]] for p in parts]


@dataclass
class FnirsStudy:
    """A study of fNIRS dyads: wavelet coherence per channel pair and ROI (HyPyP 0.6).

    Parameters
    ----------
    dyads : list of FnirsDyad
        The dyads.

    Attributes
    ----------
    wtcs : list of WaveletCoherence
        The coherence maps kept by :meth:`compute_wtcs` (``keep_wtcs=True``).

    See Also
    --------
    FnirsDyad, wavelet_coherence_hypyp, plot_coherence_matrix
    """

    dyads: list
    wtcs: list = field(default_factory=list, repr=False, init=False)
    _rows: list = field(default_factory=list, repr=False, init=False)
    _period_cuts: list | None = field(default=None, repr=False, init=False)

    @fill_doc
    @verbose
    def compute_wtcs(
        self,
        *,
        picks=None,
        with_intra: bool = True,
        with_pseudo: bool = False,
        period_range: tuple[float, float] = (2.0, 20.0),
        dj: float = 1.0 / 12.0,
        bin_seconds: float | None = None,
        period_cuts=None,
        keep_wtcs: bool = True,
        bug_compat: bool = False,
        verbose=None,
    ) -> FnirsStudy:
        """Wavelet coherence of every inter-brain (and intra-brain) channel pair of every dyad.

        Parameters
        ----------
        picks : list of str | str | None
            Channels (``None``: all; ``'hbo'``/``'hbr'``: that type; same names looked up in
            both participants).
        with_intra : bool
            Also each participant's own channel pairs (``is_intra=True`` rows).
        with_pseudo : bool
            Also every pseudo-dyad (S1 of dyad ``i`` with S2 of dyad ``j != i``, label
            ``'shuffle s1:<i>-s2:<j>'``, ``is_pseudo=True``, inter-brain pairs only), HyPyP's
            ``Study.compute_wtcs_shuffle``: the null distribution of inter-brain coherence.
        period_range : (float, float)
            Fourier periods of the wavelet in seconds (see :func:`wavelet_coherence_hypyp`).
        dj : float
            Octaves between scales.
        bin_seconds : float | None
            Time bins of the summary rows (``None``: one).
        period_cuts : list of float | None
            Period bin edges in seconds (``None``: one bin).
        keep_wtcs : bool
            Keep the full coherence maps in ``self.wtcs`` (needed for time series and
            :func:`plot_wtc`).
        bug_compat : bool
            HyPyP takes the sampling interval from ``linspace(0, n / sfreq, n)``, i.e.
            ``n / ((n - 1) sfreq)`` instead of ``1 / sfreq`` (periods off by ``n / (n - 1)``);
            ``True`` reproduces it (to compare with HyPyP), ``False`` (default) uses ``1/sfreq``.
        %(verbose)s

        Returns
        -------
        self : FnirsStudy
            The study, with its coherence rows (:meth:`to_data_frame`) and, with
            ``keep_wtcs``, the maps in ``self.wtcs``.
        """
        self.wtcs, self._rows, self._period_cuts = [], [], period_cuts
        dyads = list(self.dyads)
        if with_pseudo:
            dyads += [
                FnirsDyad(a.s1, b.s2, f"shuffle s1:{a.label}-s2:{b.label}",
                          (a.subject_labels[0], b.subject_labels[1]), a.rois, True, a.tasks)
                for i, a in enumerate(self.dyads) for j, b in enumerate(self.dyads) if i != j
            ]  # fmt: skip
        for dyad in dyads:
            if dyad.s1.info["sfreq"] != dyad.s2.info["sfreq"]:
                raise ValueError(
                    f"dyad {dyad.label!r}: recordings must share the sampling rate; got "
                    f"{dyad.s1.info['sfreq']} and {dyad.s2.info['sfreq']} Hz (resample one)"
                )
            jobs = [(dyad.s1, dyad.s2, None)]
            if with_intra and not dyad.is_pseudo:
                jobs += [(dyad.s1, dyad.s1, 1), (dyad.s2, dyad.s2, 2)]
            for ra, rb, intra_of in jobs:
                self._pairs(dyad, ra, rb, intra_of, picks, period_range, dj, bin_seconds,
                            period_cuts, keep_wtcs, bug_compat)  # fmt: skip
        logger.info("compute_wtcs: %d coherence rows", len(self._rows))
        return self

    def _pairs(self, dyad, ra, rb, intra_of, picks, period_range, dj, bin_s, cuts, keep, bug):
        names_a, names_b = _pick(ra, picks), _pick(rb, picks)
        xa = ra.get_data(picks=names_a)
        xb = rb.get_data(picks=names_b)
        sfreq = ra.info["sfreq"]
        labels = dyad.subject_labels
        s1_label = labels[0] if intra_of in (None, 1) else labels[1]
        s2_label = labels[1] if intra_of in (None, 2) else labels[0]
        dyad_label = dyad.label if intra_of is None else f"{s1_label}(intra)"
        kw = dict(period_range=period_range, dj=dj, smoothing_win_size=0.6, bandwidth=2.0,
                  center=1.0, bounds=(-8.0, 8.0))  # fmt: skip
        cache: dict = {}
        n_all = min(xa.shape[1], xb.shape[1])
        for task, epoch, seg in dyad.segments(sfreq, n_all):
            for i, ca in enumerate(names_a):
                for k, cb in enumerate(names_b):
                    self._pair(dyad, (ra, rb), (ca, cb), xa[i, seg], xb[k, seg], sfreq,
                               (task, epoch), intra_of, (s1_label, s2_label, dyad_label), kw,
                               cache, bin_s, cuts, keep, bug)  # fmt: skip

    def _pair(self, dyad, recs, chans, y1, y2, sfreq, task, intra_of, labels, kw, cache, bin_s,
              cuts, keep, bug):  # fmt: skip
        (ra, rb), (ca, cb), (s1_label, s2_label, dyad_label) = recs, chans, labels
        n = y1.size
        dt = (n / sfreq) / (n - 1) if bug else 1.0 / sfreq
        for sec, idx in enumerate(_split_nan(y1, y2)):
            whole = idx.size == y1.size  # no NaN section: transforms cached per channel
            ta = _cached(cache, (id(ra), ca, task, n, dt), whole, y1[idx], dt, kw)
            tb = _cached(cache, (id(rb), cb, task, n, dt), whole, y2[idx], dt, kw)
            w = _coherence(ta, tb, dt, 1.0)
            w.label = dict(dyad=dyad_label, channel1=ca, channel2=cb, is_intra_of=intra_of,
                           section=sec, subject1=s1_label, subject2=s2_label,
                           task=task[0], epoch=task[1])  # fmt: skip
            if keep:
                self.wtcs.append(w)
            for b, (coh, masked, trange, prange) in enumerate(
                w.bins(bin_seconds=bin_s, period_cuts=cuts)
            ):
                self._rows.append([
                    dyad_label, intra_of is not None, intra_of, dyad.is_pseudo, s1_label,
                    s2_label, dyad.roi_of(ca), dyad.roi_of(cb), ca, cb, task[0],
                    task[1], sec, b, coh, masked, trange, prange, "pywavelets",
                    "cmor2,1[win:0.6]",
                ])  # fmt: skip

    def to_data_frame(self) -> pd.DataFrame:
        """Tidy coherence table, HyPyP's coherence data frame.

        Returns
        -------
        df : pandas.DataFrame
            One row per channel pair x task epoch x section x bin, HyPyP's columns
            (:data:`COHERENCE_COLUMNS`); ``coherence`` is the mean WTC inside the cone of
            influence (unitless, 0-1), NaN when over half the bin is outside it.
        """
        if not self._rows:
            raise RuntimeError("no coherence computed yet; call compute_wtcs() first")
        return pd.DataFrame(self._rows, columns=COHERENCE_COLUMNS)

    @renamed_params(kind="pairs")
    def coherence_matrix(
        self,
        pairs: str = "inter",
        *,
        by: str = "channel",
        pseudo: bool = False,
        query=None,
    ):
        """Mean coherence per channel (or ROI) pair over dyads, bins and sections.

        Parameters
        ----------
        pairs : 'inter' | 'intra1' | 'intra2'
            Inter-brain (S1 rows x S2 columns) or one participant's intra-brain matrix
            (called ``kind`` before; that name is a deprecated alias).
        by : 'channel' | 'roi'
            Rows/columns per channel or per ROI.
        pseudo : bool
            Average the pseudo-dyads' rows (``with_pseudo``) instead of the real dyads'.
        query : str | None
            :meth:`pandas.DataFrame.query` filter on :meth:`to_data_frame` first.

        Returns
        -------
        matrix : pandas.DataFrame
            Rows ``field1`` values, columns ``field2`` values, in first-seen order.
        """
        check_option("pairs", pairs, _PAIRS)
        check_option("by", by, ("channel", "roi"))
        df = self.to_data_frame()
        if query is not None:
            df = df.query(query)
        sel = {"inter": df["is_intra_of"].isna(), "intra1": df["is_intra_of"] == 1,
               "intra2": df["is_intra_of"] == 2}[pairs]  # fmt: skip
        df = df[sel & (df["is_pseudo"] == bool(pseudo))]
        if df.empty:
            raise ValueError(
                f"no {'pseudo-dyad ' if pseudo else ''}rows for pairs={pairs!r}; compute them "
                "first (with_intra=True for intra matrices, with_pseudo=True for pseudo-dyads)"
            )
        f1, f2 = ("channel1", "channel2") if by == "channel" else ("roi1", "roi2")
        mat = df.groupby([f1, f2], sort=False)["coherence"].mean().unstack(f2)
        return mat.reindex(index=pd.unique(df[f1]), columns=pd.unique(df[f2]))

    def save(self, fname, *, overwrite: bool = False):
        """Write :meth:`to_data_frame` atomically (``.csv``, ``.tsv`` or ``.parquet``).

        Parameters
        ----------
        fname : path-like
            Output file; the suffix picks the format.
        overwrite : bool
            Replace an existing file.

        Returns
        -------
        path : pathlib.Path
            The file written.
        """
        from pathlib import Path

        from ..utils import atomic_path

        path = Path(fname)
        check_option("file suffix", path.suffix, (".csv", ".tsv", ".parquet"))
        if path.exists() and not overwrite:
            raise FileExistsError(f"{path} exists; pass overwrite=True to replace it")
        df = self.to_data_frame()
        tmp, final = atomic_path(path)
        if path.suffix == ".parquet":
            df.to_parquet(tmp, index=False)
        else:
            df.to_csv(tmp, index=False, sep="\t" if path.suffix == ".tsv" else ",")
        tmp.replace(final)
        return final

    @renamed_params(kind="pairs")
    def time_series(
        self,
        channel1: str,
        channel2: str,
        *,
        pairs: str = "inter",
        dyad=None,
        task=None,
        epoch: int = 0,
        period_cuts=None,
        window_size: int = 10,
    ):
        """Coherence over time of one pair, one row per period bin.

        Values outside the cone of influence are masked. Needs ``keep_wtcs=True`` in
        :meth:`compute_wtcs`.

        Parameters
        ----------
        channel1, channel2 : str
            The pair's channels (S1's, S2's; both of one participant for intra pairs).
        pairs : 'inter' | 'intra1' | 'intra2'
            Inter-brain pair or one participant's intra-brain pair (called ``kind`` before;
            that name is a deprecated alias).
        dyad : str | None
            Dyad label (``None``: the first dyad that has the pair).
        task : str | None
            Task name (``None``: the first task).
        epoch : int
            Epoch of ``task``.
        period_cuts : list of float | None
            Period bin edges in seconds (``None``: those of :meth:`compute_wtcs`).
        window_size : int
            Moving-average width in samples.

        Returns
        -------
        times : ndarray, shape (n_times,)
            Sample times (s).
        series : numpy.ma.MaskedArray, shape (n_period_bins, n_times)
            Moving-average coherence per period bin, masked outside the cone of influence.
        """
        check_option("pairs", pairs, _PAIRS)
        intra_of = {"inter": None, "intra1": 1, "intra2": 2}[pairs]
        for w in self.wtcs:
            lab = w.label
            if (lab["channel1"], lab["channel2"], lab["is_intra_of"]) == (
                channel1, channel2, intra_of,
            ) and (dyad is None or lab["dyad"] == dyad) and (
                task is None or (lab["task"], lab["epoch"]) == (task, epoch)
            ):  # fmt: skip
                cuts = self._period_cuts if period_cuts is None else period_cuts
                return w.times, w.time_series(period_cuts=cuts, window_size=window_size)
        raise KeyError(
            f"no coherence map for ({channel1!r}, {channel2!r}, pairs={pairs!r}); check the names "
            "and that compute_wtcs ran with keep_wtcs=True"
        )


_PAIRS = ("inter", "intra1", "intra2")


def _cached(cache, key, use, y, dt, kw):
    if not use:
        return _transform(y, dt, **kw)
    if key not in cache:
        cache[key] = _transform(y, dt, **kw)
    return cache[key]


def _pick(raw, picks) -> list[str]:
    if picks is None:
        return list(raw.ch_names)
    if isinstance(picks, str):
        types = raw.get_channel_types()
        out = [c for c, t in zip(raw.ch_names, types) if t == picks]
        if not out:
            raise ValueError(f"picks={picks!r} matches no channel type; got types {set(types)}")
        return out
    missing = [c for c in picks if c not in raw.ch_names]
    if missing:
        raise ValueError(f"picks names channels absent from the recording: {missing}")
    return list(picks)
