"""Speaking and listening masks at the neural sampling rate, and as MNE annotations.

A sample ``k`` (time ``k / sfreq``) belongs to an interval ``[onset, offset)``. For each
participant ``p``: *speaking* = ``p`` talks, *listening* = the partner talks, *overlap* = both
talk. With ``exclusive=True`` (default for the annotations) speaking and listening exclude the
overlap so the three labels never overlap each other.
"""

from __future__ import annotations

import numpy as np

from ..utils import check_option, fill_doc, logger, verbose

SPEECH_DESCRIPTIONS = ("speaking", "listening", "overlap")


def _intervals(dyad, pid: str, level: str, fill_gaps: float) -> np.ndarray:
    tr = dyad.transcript
    if tr is None:
        raise ValueError(
            f"dyad {dyad.dyad_id!r} has no transcript; attach one (dyad.set_transcript) before "
            "computing speaking masks"
        )
    tab = tr.words if level == "words" else tr.utterances
    tab = tab[tab["speaker"] == pid]
    iv = tab[["onset", "offset"]].to_numpy(float)
    if len(iv) and fill_gaps > 0:
        iv = iv[np.argsort(iv[:, 0])]
        # merge intervals separated by less than fill_gaps
        ends = np.maximum.accumulate(iv[:, 1])
        new = np.concatenate([[True], iv[1:, 0] - ends[:-1] > fill_gaps])
        grp = np.cumsum(new) - 1
        on = iv[new, 0]
        off = np.zeros(len(on))
        np.maximum.at(off, grp, iv[:, 1])
        iv = np.column_stack([on, off])
    return iv


def _mask_from_intervals(iv: np.ndarray, sfreq: float, n_times: int) -> np.ndarray:
    if not len(iv):
        return np.zeros(n_times, bool)
    s = np.clip(np.ceil(iv[:, 0] * sfreq - 1e-9).astype(int), 0, n_times)
    e = np.clip(np.ceil(iv[:, 1] * sfreq - 1e-9).astype(int), 0, n_times)
    d = np.zeros(n_times + 1, int)
    np.add.at(d, s, 1)
    np.add.at(d, e, -1)
    return np.cumsum(d[:-1]) > 0


def _check_within(dyad, level: str) -> None:
    end = dyad.transcript.end
    if end > dyad.duration + 1e-6:
        raise ValueError(
            f"dyad {dyad.dyad_id!r}: the transcript ends at {end:.3f} s, past the recording "
            f"({dyad.duration:.3f} s); check the clock alignment (sync_dyad) or crop the "
            "transcript"
        )


@fill_doc
@verbose
def speaking_masks(
    dyad, *, level: str = "utterances", fill_gaps: float = 0.0, verbose=None
) -> dict[str, np.ndarray]:
    """Boolean mask of samples where each participant speaks, at the neural rate.

    Parameters
    ----------
    %(dyad)s
    %(speech_level)s
    %(fill_gaps)s
    %(verbose)s

    Returns
    -------
    dict
        ``{pid: bool array (n_times,)}`` with ``n_times`` the participant's raw length.
    """
    check_option("level", level, ("utterances", "words"))
    out = {}
    for p in dyad.participants:
        iv = _intervals(dyad, p.id, level, fill_gaps)
        out[p.id] = _mask_from_intervals(iv, p.sfreq, p.raw.n_times)
    _check_within(dyad, level)
    for pid, m in out.items():
        logger.info("speaking_masks: %s speaks %.1f%% of samples", pid, 100 * m.mean())
    return out


@fill_doc
def listening_masks(
    dyad,
    *,
    level: str = "utterances",
    fill_gaps: float = 0.0,
    exclusive: bool = True,
    verbose=None,
) -> dict[str, np.ndarray]:
    """Boolean mask of samples where each participant listens (the partner speaks).

    Parameters
    ----------
    %(dyad)s
    %(speech_level)s
    %(fill_gaps)s
    exclusive : bool
        If True, samples where the participant also speaks (overlap) are not listening.
    %(verbose)s

    Returns
    -------
    dict
        ``{pid: bool array (n_times,)}``.
    """
    sp = speaking_masks(dyad, level=level, fill_gaps=fill_gaps, verbose=verbose)
    out = {}
    for p in dyad.participants:
        iv = _intervals(dyad, dyad.other(p.id).id, level, fill_gaps)
        o = _mask_from_intervals(iv, p.sfreq, p.raw.n_times)
        out[p.id] = o & ~sp[p.id] if exclusive else o
    return out


@fill_doc
def overlap_masks(dyad, *, level: str = "utterances", fill_gaps: float = 0.0, verbose=None):
    """Samples where both participants speak, per participant raw.

    Parameters
    ----------
    %(dyad)s
    %(speech_level)s
    %(fill_gaps)s
    %(verbose)s

    Returns
    -------
    masks : dict of str to numpy.ndarray of bool
        ``{pid: bool array (n_times,)}`` with ``n_times`` the participant's raw length.

    See Also
    --------
    speaking_masks, listening_masks
    """
    sp = speaking_masks(dyad, level=level, fill_gaps=fill_gaps, verbose=verbose)
    lis = listening_masks(dyad, level=level, fill_gaps=fill_gaps, exclusive=False)
    return {pid: sp[pid] & lis[pid] for pid in sp}


def _runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    d = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return np.nonzero(d == 1)[0], np.nonzero(d == -1)[0]


@fill_doc
@verbose
def add_speech_annotations(
    dyad,
    *,
    level: str = "utterances",
    fill_gaps: float = 0.0,
    prefix: str = "",
    verbose=None,
):
    """Add ``'speaking'``, ``'listening'`` and ``'overlap'`` annotations to each Raw.

    For each participant, *speaking* marks samples where only they talk, *listening* where
    only the partner talks and *overlap* where both talk. Existing annotations with these
    descriptions are replaced; others are kept. Acts in place.

    Parameters
    ----------
    %(dyad)s
    %(speech_level)s
    %(fill_gaps)s
    prefix : str
        Prepended to the descriptions (e.g. ``'speech/'``).
    %(verbose)s

    Returns
    -------
    Dyad
        The same dyad.
    """
    import mne

    sp = speaking_masks(dyad, level=level, fill_gaps=fill_gaps)
    lis = listening_masks(dyad, level=level, fill_gaps=fill_gaps, exclusive=False)
    names = [prefix + d for d in SPEECH_DESCRIPTIONS]
    for p in dyad.participants:
        sf = p.sfreq
        labels = {
            names[0]: sp[p.id] & ~lis[p.id],
            names[1]: lis[p.id] & ~sp[p.id],
            names[2]: sp[p.id] & lis[p.id],
        }
        on, dur, desc = [], [], []
        for name, m in labels.items():
            s, e = _runs(m)
            on.append(s / sf)
            dur.append((e - s) / sf)
            desc += [name] * len(s)
        raw = p.raw
        old = raw.annotations
        keep = ~np.isin(old.description, names)
        # the dyad clock is raw.times (0 at the first sample); MNE wants onsets relative
        # to meas_date when there is one, else relative to the first sample
        shift = raw.first_time if raw.info["meas_date"] is not None else 0.0
        new = mne.Annotations(
            np.concatenate(on) + shift,
            np.concatenate(dur),
            desc,
            orig_time=raw.info["meas_date"],
        )
        kept = mne.Annotations(
            old.onset[keep], old.duration[keep], old.description[keep],
            orig_time=old.orig_time,
        )  # fmt: skip
        raw.set_annotations(kept + new if len(kept) else new)
        logger.info(
            "add_speech_annotations: %s: %s", p.id,
            ", ".join(f"{k} {int(v.sum()) / sf:.1f} s" for k, v in labels.items()),
        )  # fmt: skip
    return dyad
