"""Epochs of one participant's recording locked to word or utterance onsets.

The transcript rows travel with the epochs in ``epochs.metadata`` (one row per kept epoch),
so that any later table can be joined back on ``utterance_id`` / ``word_index``. Events whose
window does not fit in the recording, or that share a sample with an earlier event, are
excluded and counted in ``dyad.exclusions``; events past the end of the recording raise (the
transcript and the recording are then not on one clock).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ..utils import _validate_type, check_option, fill_doc, logger, verbose

ROLES = ("speaker", "listener", "both")


def _check_dyad(dyad, pid: str):
    from ..dyad import Dyad

    _validate_type(dyad, Dyad, "dyad", "a Dyad")
    if dyad.transcript is None:
        raise ValueError(
            f"dyad {dyad.dyad_id!r} has no transcript; attach one (dyad.set_transcript) "
            "before making epochs"
        )
    if pid not in dyad.ids:
        raise ValueError(f"pid must be one of {dyad.ids}; got {pid!r}")
    return dyad[pid]


def _select_role(table: pd.DataFrame, pid: str, other: str, role: str) -> pd.DataFrame:
    table = table.copy()
    table["listener"] = np.where(table["speaker"] == pid, other, pid)
    table["role"] = np.where(table["speaker"] == pid, "speaker", "listener")
    table["participant"] = pid
    if role == "speaker":
        table = table[table["speaker"] == pid]
    elif role == "listener":
        table = table[table["speaker"] == other]
    return table


def _good_picks(dyad, pid: str, raw, picks, stage: str):
    """MNE's rule: with ``picks=None`` bad channels are left out; the exclusion is counted."""
    if picks is not None:
        return picks  # explicit picks are taken as given (MNE keeps named bad channels)
    bads = [c for c in raw.info["bads"] if c in raw.ch_names]
    if not bads:
        return None
    idx = [i for i, c in enumerate(raw.ch_names) if c not in set(bads)]
    if not idx:
        raise ValueError(
            f"participant {pid!r} of dyad {dyad.dyad_id!r} has no usable channels for epochs: "
            f"all {len(bads)} channels are marked bad ({bads[:10]}); unmark usable channels "
            "(raw.info['bads'] = [...]) or pass picks= to use them anyway"
        )
    dyad.exclusions.add(
        stage, "channel", f"{pid}: {', '.join(bads[:10])}{' ...' if len(bads) > 10 else ''}",
        "marked bad in info['bads'] (left out of the epochs; pass picks= to keep them)",
        len(bads),
    )  # fmt: skip
    return idx


def _epochs_from_table(
    dyad, pid: str, table: pd.DataFrame, lock_times: np.ndarray, tmin: float, tmax: float,
    *, unit: str, baseline, picks, reject_by_annotation: bool, decim: int, stage: str,
):  # fmt: skip
    import mne

    p = dyad[pid]
    raw = p.raw
    sf = p.sfreq
    if tmax <= tmin:
        raise ValueError(f"tmax must be > tmin; got tmin={tmin}, tmax={tmax}")
    dur = raw.n_times / sf
    past = lock_times > dur + 1e-9
    if past.any():
        i = int(np.argmax(past))
        raise ValueError(
            f"dyad {dyad.dyad_id!r}: {int(past.sum())} {unit}(s) start past the end of "
            f"{pid!r}'s recording ({dur:.3f} s), the first at {lock_times[i]:.3f} s; the "
            "transcript is not on the recording's clock: run sync_dyad or crop the transcript"
        )
    samp = np.round(lock_times * sf).astype(int)
    lo = int(np.ceil(-tmin * sf - 1e-9))  # samples needed before
    hi = int(np.round(tmax * sf))  # samples needed after
    fits = (samp - lo >= 0) & (samp + hi <= raw.n_times - 1)
    n_edge = int((~fits).sum())
    if n_edge:
        dyad.exclusions.add(
            stage, unit, f"{pid}: window [{tmin}, {tmax}] s past the recording edges",
            "epoch does not fit in the recording", n_edge,
        )  # fmt: skip
    table = table[fits]
    samp = samp[fits]
    dup = np.concatenate([[False], samp[1:] == samp[:-1]]) if len(samp) else np.zeros(0, bool)
    # samp is sorted when the table is sorted by lock time (ensured by callers)
    n_dup = int(dup.sum())
    if n_dup:
        dyad.exclusions.add(
            stage, unit, f"{pid}: same onset sample as the previous {unit}",
            "MNE allows one event per sample", n_dup,
        )  # fmt: skip
    table = table[~dup].reset_index(drop=True)
    samp = samp[~dup]
    if not len(samp):
        raise ValueError(
            f"no {unit} epochs left for {pid!r} in dyad {dyad.dyad_id!r} (edge exclusions: "
            f"{n_edge}, same-sample: {n_dup}); shorten tmin/tmax or check role="
        )
    picks = _good_picks(dyad, pid, raw, picks, stage)
    codes = {"speaker": 1, "listener": 2}
    ev_code = table["role"].map(codes).to_numpy()
    events = np.column_stack([samp + raw.first_samp, np.zeros(len(samp), int), ev_code])
    event_id = {f"{unit}/{r}": c for r, c in codes.items() if (ev_code == c).any()}
    epochs = mne.Epochs(
        raw, events, event_id=event_id, tmin=tmin, tmax=tmax, baseline=baseline, picks=picks,
        metadata=table, preload=True, reject_by_annotation=reject_by_annotation, decim=decim,
        on_missing="ignore", verbose=False,
    )  # fmt: skip
    n_ann = sum(1 for d in epochs.drop_log if d)
    if n_ann:
        reasons = sorted({r for d in epochs.drop_log for r in d})
        dyad.exclusions.add(
            stage, unit, f"{pid}: overlapping annotations {reasons}",
            "rejected by annotation", n_ann,
        )  # fmt: skip
    logger.info("%s: %d %s epochs for %s", stage, len(epochs), unit, pid)
    return epochs


@fill_doc
@verbose
def make_word_epochs(
    dyad,
    pid: str,
    tmin: float = -0.5,
    tmax: float = 1.0,
    *,
    role: str = "speaker",
    baseline: tuple | None = None,
    picks=None,
    reject_by_annotation: bool = False,
    decim: int = 1,
    verbose=None,
):
    """Epochs of participant ``pid`` locked to word onsets.

    Parameters
    ----------
    dyad : Dyad
        With a transcript on the dyad clock.
    pid : str
        Participant whose recording is epoched.
    tmin, tmax : float
        Window around each word onset (s).
    role : ``'speaker'`` | ``'listener'`` | ``'both'``
        Words ``pid`` says, words ``pid`` hears (said by the partner), or all words.
    %(epochs_baseline)s
    %(epochs_picks)s
    %(reject_by_annotation)s
    %(decim)s
    %(verbose)s

    Returns
    -------
    mne.Epochs
        Event ids ``'word/speaker'`` (1) and ``'word/listener'`` (2); ``metadata`` has one
        row per epoch with ``word_index`` (row of ``transcript.words``), ``word``,
        ``utterance_id``, ``speaker``, ``listener``, ``role``, ``participant``, ``onset``,
        ``offset``, ``duration``, ``confidence`` and the utterance's ``turn``, ``overlap``,
        ``backchannel``.

    See Also
    --------
    make_utterance_epochs : Epochs locked to utterances.
    make_dyad_epochs : Matched epochs of both participants.

    Examples
    --------
    %(example_dyad)s
    >>> from hyperalign.align import make_word_epochs
    >>> epochs = make_word_epochs(dyad, "A", -0.2, 0.5, role="speaker")
    >>> epochs.metadata[["word", "role"]].values.tolist()
    [['hello', 'speaker'], ['there', 'speaker']]
    """
    check_option("role", role, ROLES)
    p = _check_dyad(dyad, pid)
    tr = dyad.transcript
    w = tr.words.reset_index(names="word_index")
    u = tr.utterances[["utterance_id", "turn", "overlap", "backchannel"]]
    w = w.merge(u, on="utterance_id", how="left")
    w["duration"] = w["offset"] - w["onset"]
    w = _select_role(w, p.id, dyad.other(p.id).id, role)
    w = w.sort_values("onset", kind="mergesort")
    front = ["word_index", "word", "utterance_id", "speaker", "listener", "role",
             "participant", "onset", "offset", "duration"]  # fmt: skip
    w = w[front + [c for c in w.columns if c not in front]]
    return _epochs_from_table(
        dyad, p.id, w, w["onset"].to_numpy(float), tmin, tmax, unit="word",
        baseline=baseline, picks=picks, reject_by_annotation=reject_by_annotation,
        decim=decim, stage="make_word_epochs",
    )  # fmt: skip


@fill_doc
@verbose
def make_utterance_epochs(
    dyad,
    pid: str,
    tmin: float = -0.5,
    tmax: float = 2.0,
    *,
    role: str = "both",
    lock: str = "onset",
    min_duration: float = 0.0,
    exclude_backchannels: bool = False,
    baseline: tuple | None = None,
    picks=None,
    reject_by_annotation: bool = False,
    decim: int = 1,
    verbose=None,
):
    """Epochs of participant ``pid`` locked to utterance onsets (or offsets).

    Parameters
    ----------
    dyad : Dyad
        With a transcript on the dyad clock.
    pid : str
        Participant whose recording is epoched.
    tmin, tmax : float
        Window around each lock time (s).
    role : ``'speaker'`` | ``'listener'`` | ``'both'``
        Utterances ``pid`` says, hears, or all.
    lock : ``'onset'`` | ``'offset'``
        Lock to utterance onsets or offsets.
    min_duration : float
        Utterances shorter than this (s) are excluded (counted in ``dyad.exclusions``).
    exclude_backchannels : bool
        Exclude backchannel utterances (counted).
    %(epochs_baseline)s
    %(epochs_picks)s
    %(reject_by_annotation)s
    %(decim)s
    %(verbose)s

    Returns
    -------
    mne.Epochs
        Event ids ``'utterance/speaker'`` / ``'utterance/listener'``; ``metadata`` has
        ``utterance_id, speaker, listener, role, participant, onset, offset, duration, text,
        n_words, turn, overlap, backchannel``.
    """
    check_option("role", role, ROLES)
    check_option("lock", lock, ("onset", "offset"))
    p = _check_dyad(dyad, pid)
    u = dyad.transcript.utterances
    u["duration"] = u["offset"] - u["onset"]
    u = _select_role(u, p.id, dyad.other(p.id).id, role)
    short = u["duration"] < min_duration
    if short.any():
        dyad.exclusions.add(
            "make_utterance_epochs", "utterance", f"{pid}: shorter than {min_duration} s",
            "min_duration", int(short.sum()),
        )  # fmt: skip
    u = u[~short]
    if exclude_backchannels:
        bc = u["backchannel"].astype(bool)
        if bc.any():
            dyad.exclusions.add(
                "make_utterance_epochs", "utterance", f"{pid}: backchannels",
                "exclude_backchannels=True", int(bc.sum()),
            )  # fmt: skip
        u = u[~bc]
    u = u.sort_values(lock, kind="mergesort")
    front = ["utterance_id", "speaker", "listener", "role", "participant", "onset",
             "offset", "duration"]  # fmt: skip
    u = u[front + [c for c in u.columns if c not in front]]
    return _epochs_from_table(
        dyad, p.id, u, u[lock].to_numpy(float), tmin, tmax, unit="utterance",
        baseline=baseline, picks=picks, reject_by_annotation=reject_by_annotation,
        decim=decim, stage="make_utterance_epochs",
    )  # fmt: skip


#: the deprecated singular spellings of ``make_dyad_epochs(kind=)``
_SINGULAR = {"utterance": "utterances", "word": "words"}


@fill_doc
@verbose
def make_dyad_epochs(
    dyad,
    tmin: float = -0.5,
    tmax: float = 2.0,
    *,
    kind: str = "utterances",
    verbose=None,
    **kwargs,
) -> list:
    """Matched epochs of both participants (same events, same rows), for HyPyP-style analyses.

    Each participant's recording is epoched with :func:`make_utterance_epochs` or
    :func:`make_word_epochs` (``role='both'`` unless given); events kept in only one of the
    two (e.g. near the end of the shorter recording, or rejected by an annotation in one)
    are dropped from the other too and counted in ``dyad.exclusions``.

    Parameters
    ----------
    %(dyad)s
    tmin, tmax : float
        Window (s).
    kind : ``'utterances'`` | ``'words'``
        Lock to utterances or words (the spelling of :func:`~hyperalign.io.read_transcript`
        and :meth:`~hyperalign.Transcript.to_data_frame`; the singular ``'utterance'`` /
        ``'word'`` is deprecated and still accepted, with a ``FutureWarning``, for one
        release).
    %(verbose)s
    **kwargs
        Passed to the epoching function (``role``, ``lock``, ``baseline``, ``picks``…).

    Returns
    -------
    list of mne.Epochs
        ``[epochs_S1, epochs_S2]`` with identical ``metadata`` rows (the ``role`` and
        ``participant`` columns describe each participant), ready for
        :meth:`Dyad.to_hypyp`.
    """
    if kind in _SINGULAR:
        warnings.warn(
            f"make_dyad_epochs(kind={kind!r}) is deprecated; use kind={_SINGULAR[kind]!r} (the "
            "spelling of read_transcript and Transcript.to_data_frame); the singular goes in "
            "the next release",
            FutureWarning,
            stacklevel=3,
        )
        kind = _SINGULAR[kind]
    check_option("kind", kind, ("utterances", "words"))
    kwargs.setdefault("role", "both")
    unit = kind[:-1]  # the item type of the exclusion log: 'utterance' | 'word'
    fn = make_utterance_epochs if kind == "utterances" else make_word_epochs
    key = "utterance_id" if kind == "utterances" else "word_index"
    eps = [fn(dyad, pid, tmin, tmax, **kwargs) for pid in dyad.ids]
    common = set(eps[0].metadata[key]) & set(eps[1].metadata[key])
    out = []
    for pid, ep in zip(dyad.ids, eps):
        keep = ep.metadata[key].isin(common).to_numpy()
        n_drop = int((~keep).sum())
        if n_drop:
            dyad.exclusions.add(
                "make_dyad_epochs", unit, f"{pid}: no matching epoch in the partner",
                "kept in one participant only", n_drop,
            )  # fmt: skip
            ep = ep[np.nonzero(keep)[0]]
        out.append(ep)
    if not np.array_equal(out[0].metadata[key].to_numpy(), out[1].metadata[key].to_numpy()):
        raise RuntimeError("internal error: matched epochs are not in the same order")
    return out
