"""Channel selection and flat-channel detection shared by the synchrony entry points.

Bad channels follow MNE: channels in ``info['bads']`` are left out unless ``picks`` names them
explicitly (by name or index). When both participants share the montage (the same channel
names), a channel bad in either participant is left out of both, so that channel pairs stay
matched; every exclusion is counted and reported.

Flat channels: a channel with zero variance within an epoch (all samples equal, e.g. a
disconnected electrode recorded as zeros) carries no phase or amplitude information. Every
metric gives NaN for every pair involving it in that epoch (without a numpy warning); the
number of flat (epoch, channel) rows is reported.
"""

from __future__ import annotations

import numpy as np

from ..utils import logger


def _picks_to_idx(info, picks, exclude):
    try:
        from mne._fiff.pick import _picks_to_idx
    except ImportError:  # pragma: no cover - older MNE
        from mne.io.pick import _picks_to_idx
    return _picks_to_idx(info, picks, none="all", exclude=exclude, allow_empty=True)


def _explicit(picks) -> bool:
    """Picks that name channels (names or indices) keep bad channels, as in MNE."""
    if picks is None or isinstance(picks, slice):
        return False
    arr = np.atleast_1d(np.asarray(picks))
    if arr.dtype.kind in "iu":
        return True
    generic = {"all", "data", "data_or_ica", "eeg", "meg", "mag", "grad", "eog", "ecg", "emg",
               "hbo", "hbr", "fnirs_cw_amplitude", "fnirs_od", "seeg", "ecog", "dbs", "misc",
               "stim", "bio", "ref_meg", "fnirs"}  # fmt: skip
    return not any(str(p) in generic for p in arr)


def pick_good_channels(infos, picks, ids, *, where: str = "") -> tuple[list, list, dict]:
    """Indices and names of each participant's channels, bad channels left out.

    Parameters
    ----------
    infos : pair of mne.Info
    picks : MNE picks | None
    ids : pair of str
        Participant ids (for messages).
    where : str
        What is computed (for messages), e.g. ``"dyad 'd01'"``.

    Returns
    -------
    idx : list of two int arrays
    names : list of two lists of str
    excluded : dict
        ``{participant_id: [channel names left out]}`` (only participants with exclusions).
    """
    tag = f"{where}: " if where else ""
    explicit = _explicit(picks)
    idx, names, own_bads = [], [], []
    for info, pid in zip(infos, ids):
        all_idx = _picks_to_idx(info, picks, exclude=())
        ch_all = [info["ch_names"][i] for i in all_idx]
        if len(all_idx) == 0:
            raise ValueError(
                f"{tag}participant {pid!r} has no channel matching picks={picks!r} (it has "
                f"{list(info['ch_names'])[:10]}); pick channels it has"
            )
        bads = [] if explicit else [c for c in ch_all if c in info["bads"]]
        idx.append(np.asarray(all_idx))
        names.append(ch_all)
        own_bads.append(bads)
    for k in range(2):
        if own_bads[k] and len(own_bads[k]) == len(names[k]):
            raise ValueError(
                f"{tag}participant {ids[k]!r} has no channel left: all {len(names[k])} picked "
                f"channel(s) are marked bad (info['bads'] = {own_bads[k][:10]}). Interpolate "
                "them (raw.interpolate_bads()), clear info['bads'] or name channels in picks"
            )
    same = set(names[0]) == set(names[1])
    excluded: dict = {}
    reasons: dict = {}
    for k in range(2):
        partner = set(own_bads[1 - k]) - set(own_bads[k]) if same else set()
        drop = set(own_bads[k]) | partner
        keep = [i for i, c in enumerate(names[k]) if c not in drop]
        if not keep:
            raise ValueError(
                f"{tag}participant {ids[k]!r} has no channel left: its own bad channels "
                f"{own_bads[k][:10]} and those bad in participant {ids[1 - k]!r} "
                f"{sorted(partner)[:10]} (left out of both so that pairs stay matched) cover "
                f"all {len(names[k])} picked channel(s). Interpolate the bad channels "
                "(raw.interpolate_bads()) or clear info['bads']"
            )
        gone = [c for c in names[k] if c in drop]
        if gone:
            excluded[str(ids[k])] = gone
            reasons[str(ids[k])] = (
                [c for c in gone if c in own_bads[k]],
                [c for c in gone if c in partner],
            )
        idx[k] = idx[k][keep]
        names[k] = [names[k][i] for i in keep]
    for pid, (own, other) in reasons.items():
        logger.warning(
            "%sparticipant %r: left out %d bad channel(s) %s%s",
            tag,
            pid,
            len(own) + len(other),
            own[:10],
            f" and {other[:10]}, bad in the other participant (pairs stay matched)"
            if other
            else "",
        )
    return idx, names, excluded


def record_excluded_channels(log, excluded: dict, stage: str, bads: dict | None = None) -> None:
    """Add the channels left out to an :class:`~hyperalign.utils.ExclusionLog` (once).

    ``bads``: ``{participant: info['bads']}`` to tell a participant's own bad channels from
    those left out because they are bad in the other participant.
    """
    if log is None:
        return
    for pid, gone in excluded.items():
        own = set((bads or {}).get(pid, gone))
        for names, reason in (
            ([c for c in gone if c in own], "marked bad (info['bads'])"),
            (
                [c for c in gone if c not in own],
                "bad in the other participant (left out of both: pairs stay matched)",
            ),
        ):
            if not names:
                continue
            row = {"stage": stage, "kind": "channel", "item": f"{pid}: {', '.join(names)}",
                   "reason": reason, "n": len(names)}  # fmt: skip
            if row not in log.rows:
                log.add(stage, "channel", row["item"], reason, len(names))


def flat_mask(x, n_valid=None) -> np.ndarray:
    """``(..., C)`` bool: channels whose samples (the first ``n_valid[e]``) are all equal.

    ``x`` is ``(E, C, T)`` real or complex; ``n_valid`` (E,) for zero-padded ragged epochs.
    """
    x = np.asarray(x)
    if n_valid is None:
        return np.all(x == x[..., :1], axis=-1)
    n_valid = np.asarray(n_valid)
    valid = np.arange(x.shape[-1])[None, :] < n_valid[:, None]  # (E, T)
    same = (x == x[..., :1]) | ~valid[:, None, :]
    return np.all(same, axis=-1)


def nan_flat_pairs(dest, flat_x, flat_y) -> int:
    """Set ``dest[..., e, i, k]`` to NaN where channel ``i`` of x or ``k`` of y is flat in
    epoch ``e``; ``dest`` is (n_metrics, E, C1, C2). Returns the number of flat (epoch,
    channel) rows."""
    if not (flat_x.any() or flat_y.any()):
        return 0
    bad = flat_x[:, :, None] | flat_y[:, None, :]
    dest[:, bad] = np.nan
    return int(flat_x.sum() + (0 if flat_y is flat_x else flat_y.sum()))
