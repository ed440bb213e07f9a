"""Epoch windows of a dyad and the prepared inputs of the synchrony engine.

:func:`make_windows` gives one row per utterance, turn or fixed window; :class:`_Prepared` holds
everything the engine (:mod:`hyperalign.coupling._engine`) and the surrogates need to compute
synchrony on those windows (analytic signals, windows, orientation, lags): one parameter
object instead of a long argument list.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..utils import check_option, logger
from .spectral import analytic_signal

EPOCH_KINDS = ("utterances", "turns", "fixed")


# --------------------------------------------------------------------------- helpers
def _participant_data(p, picks, n_times: int) -> tuple[np.ndarray, list[str]]:
    """Data of channels ``picks`` (explicit names or indices: bads already left out)."""
    from ._channels import _picks_to_idx

    idx = _picks_to_idx(p.raw.info, picks, exclude=())
    names = [p.raw.ch_names[i] for i in idx]
    x = p.raw.get_data(picks=idx)[:, :n_times]
    bad = ~np.isfinite(x)
    if bad.any():
        rows = np.nonzero(bad.any(-1))[0]
        first = np.nonzero(bad[rows[0]])[0][0]
        raise ValueError(
            f"participant {p.id!r}: {bad.sum()} NaN/inf sample(s) in channel(s) "
            f"{[names[r] for r in rows[:5]]} (first at {first / p.sfreq:.3f} s); interpolate "
            "them or mark them bad (raw.info['bads'] = [...]): bad channels are left out"
        )
    return x, names


def make_windows(
    dyad,
    epochs: str = "utterances",
    *,
    window: float | None = None,
    min_duration: float = 2.0,
) -> pd.DataFrame:
    """The epoch windows of a dyad: one row per utterance, turn or fixed window.

    Parameters
    ----------
    dyad : Dyad
        The conversation (needs a transcript for ``'utterances'`` and ``'turns'``).
    epochs : 'utterances' | 'turns' | 'fixed'
        How the windows are made.
    window : float | None
        Length of fixed windows in seconds (``'fixed'``; default ``min_duration``).
    min_duration : float
        Windows shorter than this (s) get ``short=True``.

    Returns
    -------
    windows : DataFrame
        ``utterance_id`` (-1 for fixed windows), ``speaker``, ``listener`` (``''`` when nobody
        speaks in a fixed window), ``onset``, ``offset``, ``duration``, ``short`` and the
        transcript's columns (``text``, ``n_words``, ``turn``, ``overlap``, ``backchannel``).
    """
    check_option("epochs", epochs, EPOCH_KINDS)
    ids = dyad.ids
    end = dyad.duration
    if epochs in ("utterances", "turns"):
        if dyad.transcript is None or dyad.transcript.n_utterances == 0:
            raise ValueError(
                f"epochs={epochs!r} needs a transcript with utterances; dyad {dyad.dyad_id!r} has "
                "none. Attach one (dyad.set_transcript) or use epochs='fixed'"
            )
        utt = dyad.transcript.utterances
        if epochs == "turns":
            g = utt.groupby("turn", sort=True)
            utt = pd.DataFrame(
                {
                    "utterance_id": g["utterance_id"].first(),
                    "speaker": g["speaker"].first(),
                    "onset": g["onset"].min(),
                    "offset": g["offset"].max(),
                    "text": g["text"].agg(" ".join),
                    "n_words": g["n_words"].sum(),
                    "turn": g["turn"].first(),
                    "overlap": g["overlap"].any(),
                    "backchannel": g["backchannel"].all(),
                }
            ).reset_index(drop=True)
        utt = utt.copy()
        utt["listener"] = [ids[1] if s == ids[0] else ids[0] for s in utt["speaker"]]
    else:
        w = float(min_duration if window is None else window)
        if not np.isfinite(w) or w <= 0:
            raise ValueError(f"window must be a positive number of seconds; got {window!r}")
        n_win = int(np.floor(end / w + 1e-9))
        if n_win < 1:
            raise ValueError(
                f"window={w:g} s is longer than the recording ({end:.3g} s); use a shorter window"
            )
        on = np.arange(n_win) * w
        off = on + w
        left = end - off[-1]
        if left > 1e-9:
            logger.info("fixed windows: the last %.3f s (shorter than one window) are not used",
                        left)  # fmt: skip
        speaker = np.array([""] * n_win, dtype=object)
        if dyad.transcript is not None and dyad.transcript.n_utterances:
            u = dyad.transcript.utterances
            talk = np.zeros((2, n_win))
            for k, pid in enumerate(ids):
                uu = u[u["speaker"] == pid]
                a = np.maximum(on[:, None], uu["onset"].to_numpy()[None])
                b = np.minimum(off[:, None], uu["offset"].to_numpy()[None])
                talk[k] = np.clip(b - a, 0, None).sum(1)
            who = np.argmax(talk, 0)
            has = talk.max(0) > 0
            speaker[has] = np.asarray(ids, dtype=object)[who[has]]
        listener = np.array(
            ["" if s == "" else (ids[1] if s == ids[0] else ids[0]) for s in speaker], dtype=object
        )
        utt = pd.DataFrame(
            {"utterance_id": -1, "speaker": speaker, "listener": listener, "onset": on,
             "offset": off, "window_id": np.arange(n_win)}
        )  # fmt: skip
    utt["duration"] = utt["offset"] - utt["onset"]
    utt["short"] = utt["duration"] < float(min_duration)
    front = ["utterance_id", "speaker", "listener", "onset", "offset", "duration", "short"]
    return utt[front + [c for c in utt.columns if c not in front]].reset_index(drop=True)


@dataclass
class _Prepared:
    """Everything needed to compute synchrony of a dyad, and its surrogates, on windows."""

    source: str  # 'continuous' (a Dyad's recordings) or 'mne' (a pair of mne.Epochs)
    sfreq: float
    bands: dict
    metrics: list
    lags: np.ndarray
    lag_n: np.ndarray
    z: np.ndarray | None = None  # (2, n_bands, C, T): analytic signals of both participants
    ch_names: list = field(default_factory=list)
    picks_idx: list = field(default_factory=list)
    windows: pd.DataFrame | None = None
    starts: np.ndarray | None = None
    lengths: np.ndarray | None = None
    swap: np.ndarray | None = None
    speaker_first: bool = True
    backend: str = "numpy"
    filter: str = "hypyp"
    filter_kwargs: dict = field(default_factory=dict)
    min_cycles: float = 1.0
    attrs: dict = field(default_factory=dict)
    dyad_ids: list = field(default_factory=list)
    rois: dict | None = None
    extra: dict = field(default_factory=dict)


def _check_lags(lags, sfreq: float) -> tuple[np.ndarray, np.ndarray]:
    lags = np.atleast_1d(np.asarray(lags, dtype=float))
    if lags.ndim != 1 or lags.size == 0 or not np.isfinite(lags).all():
        raise ValueError(f"lags must be a non-empty list of finite seconds; got {lags!r}")
    if np.unique(lags).size != lags.size:
        raise ValueError(f"lags must be unique; got {lags.tolist()}")
    return lags, np.rint(lags * sfreq).astype(int)


def _participant_analytic(p, prep: _Prepared, n_times: int | None = None) -> np.ndarray:
    """(n_bands, C, T) analytic signals of participant ``p`` with ``prep``'s channels/bands."""
    missing = [c for c in prep.ch_names if c not in p.raw.ch_names]
    if missing:
        raise ValueError(
            f"participant {p.id!r} lacks channel(s) {missing[:5]} "
            f"({len(missing)} missing); every participant needs "
            f"the channels {prep.ch_names[:5]}..."
        )
    n = p.raw.n_times if n_times is None else n_times
    x, _ = _participant_data(p, prep.ch_names, n)
    z = analytic_signal(
        x,
        prep.sfreq,
        prep.bands,
        filter_method=prep.filter,
        filter_kwargs=prep.filter_kwargs or None,
        min_cycles=0,
        dtype=prep.attrs.get("dtype", "float64"),
    )  # (C, B, T)
    return np.ascontiguousarray(np.swapaxes(z, 0, 1))
