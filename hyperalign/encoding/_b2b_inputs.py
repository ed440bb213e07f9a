"""Word-level inputs of model-based coupling from a Dyad: both brains windowed at every word,
the nuisance, the pseudo-listeners and the shared folds (used by ``fit_b2b_coupling`` and the
layer sweep ``sweep_b2b``, so that every layer sees the same words and folds)."""

from __future__ import annotations

import numpy as np

from ..utils import ExclusionLog
from ._b2b_arrays import b2b_arrays
from ._b2b_result import B2BCoupling
from ._solver_checks import check_rois

__all__ = ["dyad_inputs", "fit_inputs", "roi_windows", "with_meta"]


def roi_windows(dyad, pid, onsets, wl, rois, picks):
    """Window means (n_words, n_rois, n_lags) of one participant, ROI-averaged."""
    from mne._fiff.pick import _picks_to_idx

    from .wordlevel import word_windows

    raw = dyad[pid].raw
    pk = _picks_to_idx(raw.info, "data" if picks is None else picks, exclude="bads")
    names = [raw.ch_names[i] for i in pk]
    Y, keep, _ = word_windows(raw.get_data(picks=pk), raw.info["sfreq"], onsets, wl)
    full = np.full((len(onsets), *Y.shape[1:]), np.nan)
    full[keep] = Y
    if rois is None:
        return full, names, keep
    rois = check_rois(rois, names, what="channels",
                      tail=f" that participant {pid!r} lacks (or are marked bad)",
                      fix=f"use channels among {names[:8]}...")  # fmt: skip
    out = [full[:, [names.index(c) for c in chans]].mean(1) for chans in rois.values()]
    return np.stack(out, 1), list(rois), keep


def _pseudo_tables(dyad, others, slots, on, wl, rois, picks, names):
    """Listener tables from other conversations at this dyad's words: for the words of slot
    ``j``, the listener is the participant in slot ``1 - j`` of the pseudo-dyad
    (:func:`~hyperalign.align.pseudo.pseudo_dyad`: matched on length, so words past the
    shorter recording are dropped)."""
    from ..align.pseudo import pseudo_dyad

    tables, keep = [], np.ones(len(on), bool)
    for d2 in others:
        tab = np.full((len(on), len(names), wl.lags.size), np.nan)
        for j in (0, 1):
            try:
                pd_ = pseudo_dyad(dyad, d2, slot=1 - j)
            except ValueError as err:
                raise ValueError(f"pseudo_dyads: {err}") from None
            Y, nm, k = roi_windows(pd_, pd_.ids[1 - j], on, wl, rois, picks)
            if nm != names:
                raise ValueError(
                    f"pseudo_dyads: dyad {d2.dyad_id!r} has ROIs/channels {nm[:5]}... but this "
                    f"dyad has {names[:5]}...; give rois= shared by all dyads"
                )
            sel = slots == j
            tab[sel] = Y[sel]
            keep &= k | ~sel
        tables.append(tab)
    return tables, keep


def _nuisance(nuisance, dyad, keep, excl):
    from .wordlevel import nuisance_spaces

    as_list = {str: lambda x: [x], list: list, tuple: list, dict: lambda x: list(x.values())}
    given = as_list.get(type(nuisance), lambda x: [])(nuisance)
    rel = [x for x in given if isinstance(x, str) and x in ("speaking", "listening")]
    if rel:
        raise ValueError(
            f"nuisance {rel} is relative to one participant, but every word here has a "
            "speaker and a listener; give 'word_rate' or arrays/DataFrames with one row "
            "per word (e.g. acoustic_word_features)"
        )
    N = np.column_stack(list(nuisance_spaces(nuisance, dyad, dyad.ids[0]).values()))
    bad = keep & ~np.isfinite(N).all(1)
    if bad.any():
        excl.add("b2b", "word", f"{int(bad.sum())} words", "NaN nuisance", bad.sum())
    return N, keep & np.isfinite(N).all(1)


def dyad_inputs(dyad, ok, *, wl, rois, picks, nuisance, null, pseudo_dyads, cv, why_nan):
    """Both brains windowed at the dyad's words, with the words kept and the shared folds.

    Parameters
    ----------
    dyad : Dyad
        The conversation.
    ok : ndarray of bool, shape (n_words,)
        Words whose features are finite (every layer, for a sweep).
    wl : WordLags
        The lag grid of both brains.
    rois, picks, nuisance, null, pseudo_dyads, cv
        As in :func:`~hyperalign.encoding.fit_b2b_coupling`.
    why_nan : str
        The reason recorded for the words dropped by ``ok``.

    Returns
    -------
    inputs : dict
        ``idx`` (rows of the transcript kept), ``Ys``, ``Yl`` (n_kept, n_rois, n_lags),
        ``on`` (every word onset), ``spk``, ``names``, ``N``, ``pseudo``, ``turns``,
        ``folds``, ``exclusions`` (ExclusionLog).
    """
    from .wordlevel import make_word_folds

    words = dyad.transcript.words.reset_index(drop=True)
    on = words["onset"].to_numpy(float)
    spk = words["speaker"].astype(str).to_numpy()
    slots = np.array([dyad.ids.index(s) for s in spk])
    excl, keep = ExclusionLog(), np.asarray(ok, bool).copy()
    if (~keep).any():
        excl.add("b2b", "word", f"{int((~keep).sum())} words", why_nan, (~keep).sum())
    Y, names = {}, None
    for pid in dyad.ids:
        Y[pid], nm, k = roi_windows(dyad, pid, on, wl, rois, picks)
        if names is not None and nm != names:
            raise ValueError(
                f"the two brains have different channels ({names[:4]}... vs {nm[:4]}...); "
                "give rois= (channel groups present in both) or picks= shared by both"
            )
        names = nm
        if (keep & ~k).any():
            n_out = int((keep & ~k).sum())
            why = f"a lag window of {pid} falls outside the recording"
            excl.add("b2b", "word", f"{n_out} words", why, n_out)
        keep &= k
    N = None
    if nuisance is not None:
        N, keep = _nuisance(nuisance, dyad, keep, excl)
    pseudo = None
    if null == "pseudo":
        if not pseudo_dyads:
            raise ValueError("null='pseudo' needs pseudo_dyads= (other conversations)")
        pseudo, kp = _pseudo_tables(dyad, pseudo_dyads, slots, on, wl, rois, picks, names)
        if (keep & ~kp).any():
            n_out = int((keep & ~kp).sum())
            why = "past the end of a pseudo-listener's recording"
            excl.add("b2b", "word", f"{n_out} words", why, n_out)
        keep &= kp
        pseudo = [tab[keep] for tab in pseudo]
    if not keep.any():
        raise ValueError(
            f"no word of dyad {dyad.dyad_id!r} has every lag window inside both recordings "
            f"(lags {wl.lags.min():g} to {wl.lags.max():g} s); use shorter lags"
        )
    idx = np.flatnonzero(keep)
    other = {dyad.ids[0]: dyad.ids[1], dyad.ids[1]: dyad.ids[0]}
    return {
        "idx": idx,
        "Ys": np.stack([Y[spk[i]][i] for i in idx]),
        "Yl": np.stack([Y[other[spk[i]]][i] for i in idx]),
        "on": on, "spk": spk, "names": names,
        "N": None if N is None else N[idx],
        "pseudo": pseudo,
        "turns": words["utterance_id"].to_numpy()[idx] if "utterance_id" in words else None,
        "folds": make_word_folds(dyad, cv, lags=wl) if isinstance(cv, int) else cv,
        "exclusions": excl,
    }  # fmt: skip


def fit_inputs(X, inp, wl, **kwargs) -> B2BCoupling:
    """:func:`b2b_arrays` on the inputs of :func:`dyad_inputs` (rows already kept)."""
    idx, N = inp["idx"], inp["N"]
    return b2b_arrays(
        X, inp["Ys"], inp["Yl"], inp["on"][idx], speaker_lags=wl.lags,
        speakers=inp["spk"][idx], roi_speaker=inp["names"], roi_listener=inp["names"],
        nuisance=N, cv=inp["folds"], all_times=inp["on"], span=wl.span,
        turns=inp["turns"], pseudo_listeners=inp["pseudo"], **kwargs,
    )  # fmt: skip


def with_meta(res: B2BCoupling, inp, wl, rois) -> B2BCoupling:
    excl = inp["exclusions"]
    log = excl.to_data_frame().astype(str).to_dict("records")
    res.attrs.update({"lags": wl.name, "window": wl.window, "exclusions": log,
                      "rois": {k: list(v) for k, v in (rois or {}).items()}})  # fmt: skip
    return res
