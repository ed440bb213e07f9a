"""Turn-level tables: who holds the floor, for how long, and how fast the floor changes.

A *turn* is a run of one speaker's non-backchannel utterances (``Transcript.utterances``
column ``turn``); the partner's backchannels inside it do not take the floor. The *gap* of a
turn is its onset minus the previous turn's offset; at a change of speaker it is the
*floor transfer offset* (FTO): negative values are overlaps, positive values silences.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..utils import _validate_type

TURN_COLUMNS = [
    "turn", "speaker", "onset", "offset", "duration", "n_utterances", "n_words",
    "n_backchannels", "text", "gap", "fto", "overlap",
]  # fmt: skip


def _utterances(obj, name: str) -> pd.DataFrame:
    from ..dyad import Dyad
    from ..transcript import Transcript

    _validate_type(
        obj,
        (Transcript, Dyad, pd.DataFrame),
        name,
        "a Transcript, a Dyad or an utterance DataFrame",
    )
    if isinstance(obj, Dyad):
        if obj.transcript is None:
            raise ValueError(f"dyad {obj.dyad_id!r} has no transcript")
        obj = obj.transcript
    if isinstance(obj, Transcript):
        return obj.utterances
    need = ["utterance_id", "speaker", "onset", "offset", "turn", "backchannel"]
    missing = [c for c in need if c not in obj.columns]
    if missing:
        raise ValueError(
            f"utterance table lacks column(s) {missing}; pass Transcript.utterances "
            "(or a Transcript)"
        )
    return obj


def turn_table(transcript) -> pd.DataFrame:
    """One row per turn.

    Parameters
    ----------
    transcript : Transcript | Dyad | pandas.DataFrame
        A transcript (or its utterance table).

    Returns
    -------
    pandas.DataFrame
        Columns ``turn, speaker, onset, offset, duration, n_utterances, n_words,
        n_backchannels`` (the partner's backchannels during the turn), ``text``, ``gap``
        (onset minus the previous turn's offset, s; NaN for the first turn), ``fto`` (the gap
        when the speaker changed, else NaN) and ``overlap`` (``gap < 0``).
        ``df.attrs['fto_stats']`` holds :func:`floor_transfer_stats`.
    """
    utt = _utterances(transcript, "transcript")
    if not len(utt):
        df = pd.DataFrame(columns=TURN_COLUMNS)
        df.attrs["fto_stats"] = floor_transfer_stats(df)
        return df
    utt = utt.sort_values("onset", kind="mergesort")
    # the holder of a turn: speaker of its first non-backchannel utterance (else first one)
    holder = (
        utt.assign(_nb=~utt["backchannel"].astype(bool))
        .sort_values(["turn", "_nb", "onset"], ascending=[True, False, True], kind="mergesort")
        .groupby("turn", sort=True)["speaker"]
        .first()
    )
    own = utt["speaker"].to_numpy() == holder.reindex(utt["turn"]).to_numpy()
    mine = utt[own]
    g = mine.groupby("turn", sort=True)
    n_words = g["n_words"].sum() if "n_words" in mine else g.size()
    text = g["text"].agg(" ".join) if "text" in mine else pd.Series("", index=g.size().index)
    df = pd.DataFrame(
        {
            "turn": g.size().index.to_numpy(),
            "speaker": g["speaker"].first().to_numpy(),
            "onset": g["onset"].min().to_numpy(),
            "offset": g["offset"].max().to_numpy(),
            "n_utterances": g.size().to_numpy(),
            "n_words": n_words.to_numpy(),
            "text": text.to_numpy(),
        }
    )
    nbc = utt[~own].groupby("turn").size()
    df["n_backchannels"] = nbc.reindex(df["turn"]).fillna(0).astype(int).to_numpy()
    df["duration"] = df["offset"] - df["onset"]
    prev_off = np.concatenate([[np.nan], df["offset"].to_numpy()[:-1]])
    df["gap"] = df["onset"].to_numpy() - prev_off
    change = np.concatenate(
        [[False], df["speaker"].to_numpy()[1:] != df["speaker"].to_numpy()[:-1]]
    )
    df["fto"] = np.where(change, df["gap"], np.nan)
    df["overlap"] = df["gap"] < 0
    df = df[TURN_COLUMNS].reset_index(drop=True)
    df.attrs["fto_stats"] = floor_transfer_stats(df)
    return df


def floor_transfer_stats(turns: pd.DataFrame) -> dict:
    """Summary of floor transfer offsets (s) of a :func:`turn_table`.

    Parameters
    ----------
    turns : pandas.DataFrame
        The output of :func:`turn_table` (column ``fto``, s).

    Returns
    -------
    dict
        ``n, mean, median, sd, q25, q75, prop_overlap`` (fraction of transfers with
        negative FTO) and ``prop_gap_over_1s``.
    """
    f = pd.to_numeric(turns.get("fto", pd.Series(dtype=float)), errors="coerce").dropna()
    f = f.to_numpy(float)
    if not len(f):
        keys = ["mean", "median", "sd", "q25", "q75", "prop_overlap", "prop_gap_over_1s"]
        return {"n": 0, **dict.fromkeys(keys, float("nan"))}
    return {
        "n": len(f),
        "mean": float(f.mean()),
        "median": float(np.median(f)),
        "sd": float(f.std(ddof=1)) if len(f) > 1 else float("nan"),
        "q25": float(np.quantile(f, 0.25)),
        "q75": float(np.quantile(f, 0.75)),
        "prop_overlap": float((f < 0).mean()),
        "prop_gap_over_1s": float((f > 1).mean()),
    }


def previous_turns(
    utterances: pd.DataFrame, k: int = 1, *, skip_backchannels: bool = True
) -> np.ndarray:
    """Positions of the ``k`` most recent partner utterances before each utterance.

    The one previous-turn rule of the package (semantic and acoustic alignment,
    :func:`previous_turn_utterance`): for utterance ``u`` by speaker ``s``, the
    non-backchannel utterances of the other speaker that started strictly before ``u``, most
    recent first.

    Parameters
    ----------
    utterances : pandas.DataFrame
        ``Transcript.utterances`` (``speaker``, ``onset`` and, when backchannels are
        skipped, ``backchannel``; a table without that column has none).
    k : int
        Window length.
    skip_backchannels : bool
        If True (default), the partner's backchannels are never previous turns.

    Returns
    -------
    positions : ndarray of int, shape (n_utterances, k)
        Row positions (not ids) into ``utterances``, most recent first; -1 where fewer than
        ``k`` exist. Column 0 is the previous turn.

    See Also
    --------
    previous_turn_utterance : The previous turn's id, speaker and latency as a table.
    """
    if int(k) < 1:
        raise ValueError(f"k must be >= 1; got {k!r}")
    k = int(k)
    n = len(utterances)
    out = np.full((n, k), -1, int)
    onset = utterances["onset"].to_numpy(float)
    spk = utterances["speaker"].astype(str).to_numpy()
    bc = np.zeros(n, bool)
    if skip_backchannels and "backchannel" in utterances.columns:
        bc = utterances["backchannel"].fillna(False).astype(bool).to_numpy()
    pos = np.arange(n)
    for s in np.unique(spk):
        cand = pos[(spk != s) & ~bc]
        if not len(cand):
            continue
        cand = cand[np.argsort(onset[cand], kind="mergesort")]
        me = pos[spk == s]
        last = np.searchsorted(onset[cand], onset[me], side="left") - 1
        for j in range(k):
            idx = last - j
            ok = idx >= 0
            out[me[ok], j] = cand[idx[ok]]
    return out


def previous_turn_utterance(utterances) -> pd.DataFrame:
    """Map each utterance to the utterance of the other speaker it responds to.

    For utterance ``u`` by speaker ``s``, the target is the **last non-backchannel utterance
    by the other speaker that started before ``u``**. For an utterance that takes or holds
    the floor this is the last utterance of the previous turn (the partner's turn just
    before); for a backchannel it is the partner utterance being backchannelled (in the
    current turn). Backchannels are never targets. Used by the speaker–listener alignment
    features (``sem_align``: cosine of an utterance with its target).

    Parameters
    ----------
    utterances : pandas.DataFrame | Transcript | Dyad
        ``Transcript.utterances`` (columns ``utterance_id, speaker, onset, offset, turn,
        backchannel``) or an object holding it.

    Returns
    -------
    pandas.DataFrame
        One row per utterance in the input order: ``utterance_id``, ``prev_utterance_id``
        (nullable ``Int64``; ``<NA>`` when the other speaker has not spoken yet),
        ``prev_turn``, ``prev_speaker`` and ``latency`` (onset of ``u`` minus offset of the
        target, s; negative when they overlap).
    """
    utt = _utterances(utterances, "utterances")
    prev = previous_turns(utt, 1)[:, 0]
    onset = utt["onset"].to_numpy(float)
    spk = utt["speaker"].astype(str).to_numpy()
    has = prev >= 0
    ids = utt["utterance_id"].to_numpy()
    out = pd.DataFrame({"utterance_id": ids})
    out["prev_utterance_id"] = pd.array(np.where(has, ids[np.maximum(prev, 0)], 0), "Int64")
    out.loc[~has, "prev_utterance_id"] = pd.NA
    turn = utt["turn"].to_numpy()
    out["prev_turn"] = pd.array(np.where(has, turn[np.maximum(prev, 0)], 0), "Int64")
    out.loc[~has, "prev_turn"] = pd.NA
    out["prev_speaker"] = np.where(has, spk[np.maximum(prev, 0)], None)
    off = utt["offset"].to_numpy(float)
    out["latency"] = np.where(has, onset - off[np.maximum(prev, 0)], np.nan)
    return out
