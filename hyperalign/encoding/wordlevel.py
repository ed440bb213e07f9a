"""Word-level lagged encoding (Goldstein et al. 2022; Zada et al. 2024).

For every channel and every lag, the neural signal averaged in a window centred on word
onset + lag is predicted from the word's features, out of fold. Production models use the
participant's own words, comprehension models the partner's words; the joint model fits
both with role-split copies of every feature space (``prod_*`` / ``comp_*`` bands).

Window means come from one cumulative sum per channel, gathered for every word and lag at
once (no epoching).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..utils import ExclusionLog, _validate_type, check_option, fill_doc, logger, verbose
from .splitters import Folds, as_index_folds, check_leakage, make_folds

__all__ = [
    "LAG_PRESETS",
    "WordLags",
    "resolve_lags",
    "word_windows",
    "word_features",
    "make_word_folds",
]

LAG_PRESETS = {
    "zada2024": {"tmin": -4.0, "tmax": 4.0, "step": 0.0625, "window": 0.25},
    "goldstein2022": {"tmin": -2.0, "tmax": 2.0, "step": 0.025, "window": 0.2},
}
_META_COLUMNS = {
    "onset",
    "offset",
    "word",
    "speaker",
    "utterance_id",
    "word_index",
    "confidence",
    "sim_key",
    "n_syllables",
    "n_tokens",
    "dyad",
    "turn",
}


@dataclass(frozen=True)
class WordLags:
    """A lag grid (s) and the averaging window (s) of a word-level model.

    Parameters
    ----------
    lags : ndarray of float, shape (n_lags,)
        Lags (s) from word onset, increasing.
    window : float
        Length (s) of the window the neural signal is averaged over at each lag.
    name : str
        The preset's name (``'zada2024'``, ``'goldstein2022'``) or ``'custom'``.
    """

    lags: np.ndarray
    window: float
    name: str = "custom"

    @property
    def span(self) -> float:
        """Seconds of neural data one word touches over all lags (purge gap for folds)."""
        return float(self.lags.max() - self.lags.min() + self.window)

    def to_dict(self) -> dict:
        return {
            "lags": self.name,
            "window": self.window,
            "lag_min": float(self.lags.min()),
            "lag_max": float(self.lags.max()),
            "n_lags": int(self.lags.size),
        }


def resolve_lags(lags="zada2024", window: float | None = None) -> WordLags:
    """Lag grid from a preset name or an array of lags (s).

    Parameters
    ----------
    lags : 'zada2024' | 'goldstein2022' | array-like of float
        ``'zada2024'``: -4 to +4 s in 62.5 ms steps (129 lags), 250 ms windows;
        ``'goldstein2022'``: -2 to +2 s in 25 ms steps (161 lags), 200 ms windows; or any
        increasing grid in seconds.
    window : float | None
        Averaging window (s); ``None`` takes the preset's (required for a custom grid).

    Returns
    -------
    lags : WordLags
        The lag grid and its averaging window.
    """
    if isinstance(lags, str):
        check_option("lags", lags, LAG_PRESETS)
        p = LAG_PRESETS[lags]
        n = int(round((p["tmax"] - p["tmin"]) / p["step"])) + 1
        grid = p["tmin"] + p["step"] * np.arange(n)
        win = p["window"] if window is None else float(window)
        name = lags
    else:
        grid = np.atleast_1d(np.asarray(lags, dtype=float))
        if grid.ndim != 1 or grid.size == 0 or not np.all(np.isfinite(grid)):
            raise ValueError(f"lags must be a preset name or a 1-D array of seconds; got {lags!r}")
        if grid.size > 1 and np.any(np.diff(grid) <= 0):
            raise ValueError("lags must be strictly increasing (seconds)")
        if window is None:
            raise ValueError(
                "window must be given (seconds) with a custom lag grid; e.g. window=0.2"
            )
        win = float(window)
        name = "custom"
    if not np.isfinite(win) or win <= 0:
        raise ValueError(f"window must be > 0 seconds; got {window!r}")
    return WordLags(grid, win, name)


def word_windows(
    data: np.ndarray,
    sfreq: float,
    onsets,
    lags: WordLags,
    *,
    segments=None,
) -> tuple[np.ndarray, np.ndarray, dict]:
    """Mean of ``data`` in a window centred on each onset + each lag (cumulative sums).

    Parameters
    ----------
    data : ndarray, shape (n_channels, n_times)
        Neural data; sample ``k`` is at ``k / sfreq`` s.
    sfreq : float
        Sampling rate (Hz).
    onsets : array-like of float
        Word onsets (s).
    lags : WordLags
        Lag grid and window.
    segments : array-like of float | None
        Times (s) of recording boundaries (runs, acquisition gaps): a word whose windows
        straddle one is excluded.

    Returns
    -------
    Y : ndarray, shape (n_kept, n_channels, n_lags)
        Window means of the kept words.
    keep : ndarray of bool, shape (n_words,)
        Words whose every window lies inside the recording (and one segment).
    counts : dict
        ``{'outside': n, 'boundary': n}`` words excluded for each reason.
    """
    x = np.asarray(data, dtype=np.float64)
    n_ch, n_times = x.shape
    on = np.asarray(onsets, dtype=float)
    nw = max(1, int(round(lags.window * sfreq)))
    centre = np.round((on[:, None] + lags.lags[None, :]) * sfreq).astype(np.int64)
    start = centre - nw // 2
    lo, hi = start.min(axis=1), start.max(axis=1) + nw
    inside = (lo >= 0) & (hi <= n_times)
    across = np.zeros_like(inside)
    if segments is not None:
        b = np.round(np.asarray(segments, dtype=float) * sfreq).astype(np.int64)
        for s in b:
            across |= (lo < s) & (hi > s)
        across &= inside
    keep = inside & ~across
    counts = {"outside": int((~inside).sum()), "boundary": int(across.sum())}
    cs = np.zeros((n_times + 1, n_ch))
    np.cumsum(x.T, axis=0, out=cs[1:])
    st = start[keep]
    Y = (cs[st + nw] - cs[st]) / nw  # (n_kept, n_lags, n_ch)
    return np.ascontiguousarray(Y.transpose(0, 2, 1)), keep, counts


def _normalize(words) -> np.ndarray:
    from ..transcript import _normalize_token

    return np.array([_normalize_token(str(w)) for w in words], dtype=object)


def _check_words_match(table: pd.DataFrame, words: pd.DataFrame, name: str) -> None:
    if len(table) != len(words):
        raise ValueError(
            f"{name} has {len(table)} rows but the transcript has {len(words)} words; "
            "compute the features from this dyad's transcript (one row per word of "
            "dyad.transcript.words, in order)"
        )
    if "word" in table.columns:
        bad = np.flatnonzero(_normalize(table["word"]) != _normalize(words["word"]))
        if bad.size:
            i = int(bad[0])
            raise ValueError(
                f"{name} does not match the transcript: {bad.size} words differ (first at row "
                f"{i}: {table['word'].iloc[i]!r} vs {words['word'].iloc[i]!r}); compute the "
                "features from this dyad's transcript"
            )
    if "onset" in table.columns:
        d = np.abs(table["onset"].to_numpy(float) - words["onset"].to_numpy(float))
        if np.nanmax(d, initial=0.0) > 1e-3:
            i = int(np.nanargmax(d))
            raise ValueError(
                f"{name} does not match the transcript: onsets differ by up to {d[i]:.3f} s "
                f"(row {i}); compute the features from this dyad's (aligned) transcript"
            )


def _check_layer(emb, layer, name: str) -> None:
    """``layer`` names a layer ``emb`` has (else: which model, how many layers, the fix)."""
    names, n = list(emb.layer_names), emb.n_layers
    if isinstance(layer, str):
        if layer not in names:
            raise ValueError(
                f"layer={layer!r} is not a layer of {name} (model {emb.model!r}); its layers "
                f"are {names}; pass one of them"
            )
        return
    li = int(layer)
    if not -n <= li < n:
        raise ValueError(
            f"layer={li} was asked but {name} (model {emb.model!r}) has only {n} layers "
            f"(indices 0..{n - 1}, or -{n}..-1 from the end); ask for one of them, or compute "
            "the embeddings of a deeper model"
        )


def _space_array(obj, words: pd.DataFrame, name: str, layer) -> tuple[np.ndarray, list[str]]:
    """One feature space as (n_words, d) float64 and its column names."""
    from ..features.llm import LayerEmbeddings

    if isinstance(obj, LayerEmbeddings):
        _check_words_match(obj.words, words, name)
        if layer is None:
            if obj.n_layers != 1:
                raise ValueError(
                    f"{name} has {obj.n_layers} layers; pass layer= (a name or index) or "
                    "use a layer sweep"
                )
            layer = 0
        _check_layer(obj, layer, name)
        arr = np.asarray(obj.get_layer(layer), dtype=np.float64)
        return arr, [f"{name}_{i}" for i in range(arr.shape[1])]
    if isinstance(obj, pd.DataFrame):
        _check_words_match(obj, words, name)
        cols = [
            c
            for c in obj.columns
            if str(c) not in _META_COLUMNS and pd.api.types.is_numeric_dtype(obj[c])
        ]
        if not cols:
            raise ValueError(f"{name} has no numeric feature columns; got {list(obj.columns)}")
        return obj[cols].to_numpy(np.float64), [str(c) for c in cols]
    arr = np.asarray(obj, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n_words, n_features); got shape {arr.shape}")
    if arr.shape[0] != len(words):
        _check_words_match(pd.DataFrame(index=range(arr.shape[0])), words, name)
    return arr, [f"{name}_{i}" for i in range(arr.shape[1])]


def word_features(features, words: pd.DataFrame, *, layer=None) -> dict[str, np.ndarray]:
    """Feature spaces aligned to ``words``: ``{space: (n_words, d)}``.

    Parameters
    ----------
    features : DataFrame | ndarray | LayerEmbeddings | dict of those
        One row per word of ``words`` (validated: count, word text, onsets when present).
        A dict gives several spaces (banded ridge).
    words : DataFrame
        The transcript's word table.
    layer : int | str | None
        Layer of a :class:`~hyperalign.features.LayerEmbeddings`.

    Returns
    -------
    spaces : dict of str to ndarray
        Feature space name to its ``(n_words, n_features)`` matrix.
    """
    if not isinstance(features, dict):
        features = {"features": features}
    out = {}
    for name, obj in features.items():
        arr, _ = _space_array(obj, words, str(name), layer)
        out[str(name)] = arr
    return out


def _check_design(spaces: dict[str, np.ndarray], rows: np.ndarray) -> None:
    """Constant or duplicated columns over the used rows -> error naming them."""
    for name, arr in spaces.items():
        a = arr[rows]
        sd = a.std(axis=0)
        const = np.flatnonzero(sd == 0)
        if const.size:
            raise ValueError(
                f"features space {name!r} has constant columns {const[:10].tolist()} over the "
                f"{rows.size} words used; drop them (a constant carries no information)"
            )
        if a.shape[1] > 1:
            z = (a - a.mean(0)) / sd
            c = (z.T @ z) / len(z)
            np.fill_diagonal(c, 0)
            dup = np.argwhere(np.triu(np.abs(c) > 1 - 1e-10))
            if dup.size:
                i, j = dup[0]
                raise ValueError(
                    f"features space {name!r} has duplicated (collinear) columns {i} and {j}; "
                    "drop one of each pair"
                )


def _nan_rows(spaces: dict[str, np.ndarray]) -> np.ndarray:
    bad = np.zeros(len(next(iter(spaces.values()))), bool)
    for arr in spaces.values():
        bad |= ~np.isfinite(arr).all(axis=1)
    return bad


@fill_doc
@verbose
def prepare_word_data(
    dyad,
    features,
    *,
    participant: str,
    role: str = "production",
    lags="zada2024",
    window: float | None = None,
    picks=None,
    layer=None,
    verbose=None,
) -> dict:
    """Targets (word windows) and feature spaces of one participant and role, rows matched.

    Parameters
    ----------
    %(dyad)s
    features : DataFrame | ndarray | LayerEmbeddings | dict of those
        One row per word of ``dyad.transcript.words``.
    participant : str
        Participant id whose brain is modelled.
    role : 'production' | 'comprehension' | 'joint'
        The participant's own words, the partner's words, or both (role-split spaces).
    lags : str | array-like
        Lag preset or grid (:func:`resolve_lags`).
    window : float | None
        Averaging window (s).
    %(picks)s
    layer : int | str | None
        Layer of a LayerEmbeddings.
    %(verbose)s

    Returns
    -------
    data : dict
        ``Y`` (n, n_channels, n_lags), ``spaces`` {name: (n, d)}, ``words`` (the rows used),
        ``channels``, ``lags`` (WordLags), ``exclusions`` (ExclusionLog), ``all_onsets``.
    """
    check_option("role", role, ("production", "comprehension", "joint"))
    _validate_type(participant, str, "participant")
    if participant not in dyad.ids:
        raise ValueError(f"participant must be one of {dyad.ids}; got {participant!r}")
    wl = lags if isinstance(lags, WordLags) else resolve_lags(lags, window)
    words = dyad.transcript.words.reset_index(drop=True)
    spaces = word_features(features, words, layer=layer)
    spk = words["speaker"].astype(str).to_numpy()
    if role == "production":
        rows = spk == participant
    elif role == "comprehension":
        rows = spk == dyad.other(participant).id
    else:
        rows = np.ones(len(words), bool)
    excl = ExclusionLog()
    nan = _nan_rows(spaces) & rows
    if nan.any():
        excl.add("encoding", "word", f"{int(nan.sum())} words", "NaN or inf features", nan.sum())
    rows &= ~nan
    raw = dyad[participant].raw
    from mne._fiff.pick import _picks_to_idx

    pk = _picks_to_idx(raw.info, "data" if picks is None else picks, exclude="bads")
    data = raw.get_data(picks=pk)
    channels = [raw.ch_names[i] for i in pk]
    bnd = [
        float(o - raw.first_time)
        for o, d in zip(raw.annotations.onset, raw.annotations.description)
        if str(d).lower().startswith(("bad boundary", "edge boundary"))
    ]
    idx = np.flatnonzero(rows)
    Y, keep, counts = word_windows(
        data, raw.info["sfreq"], words["onset"].to_numpy()[idx], wl, segments=bnd or None
    )
    if counts["outside"]:
        excl.add(
            "encoding",
            "word",
            f"{counts['outside']} words",
            "a lag window falls outside the recording",
            counts["outside"],
        )
    if counts["boundary"]:
        excl.add(
            "encoding",
            "word",
            f"{counts['boundary']} words",
            "a lag window straddles a recording boundary",
            counts["boundary"],
        )
    idx = idx[keep]
    if idx.size == 0:
        raise ValueError(
            f"no {role} words of {participant} have every lag window inside the recording "
            f"(lags {wl.lags.min():g} to {wl.lags.max():g} s, window {wl.window:g} s, "
            f"recording {data.shape[1] / raw.info['sfreq']:.1f} s); use shorter lags"
        )
    sp = {k: v[idx] for k, v in spaces.items()}
    if role == "joint":
        prod = spk[idx] == participant
        sp = {
            **{f"prod_{k}": v * prod[:, None] for k, v in sp.items()},
            **{f"comp_{k}": v * (~prod)[:, None] for k, v in sp.items()},
        }
    logger.info(
        "%s %s: %d words x %d channels x %d lags",
        participant,
        role,
        idx.size,
        len(channels),
        wl.lags.size,
    )
    return {
        "Y": Y,
        "spaces": sp,
        "words": words.iloc[idx].reset_index(drop=True),
        "channels": channels,
        "lags": wl,
        "exclusions": excl,
        "all_onsets": words["onset"].to_numpy(float),
        "row_index": idx,
    }


def resolve_folds(cv, times, *, all_times, span: float, purge: bool = True, groups=None):
    """Index folds for samples at ``times``; ints become blocks purged by ``span``.

    ``all_times`` (every word of the conversation) defines integer folds so that the two
    roles and the two brains share them. Index folds given by the user are checked for
    leakage through the lag window (``span``).
    """
    if isinstance(cv, int | np.integer) and not isinstance(cv, bool):
        cv = make_folds(all_times, int(cv), gap=span if purge else 0.0)
    if isinstance(cv, Folds):
        idx = cv.split(times, groups)
        if cv.scheme == "shuffled":
            return idx, cv
        if cv.gap < span and cv.groups is None:
            check_leakage(idx, times, span, groups=groups)
        return idx, cv
    idx = as_index_folds(cv, times, groups)
    check_leakage(idx, times, span, groups=groups)
    return idx, None


def column_scores(Y: np.ndarray, P: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pearson r and R² per column of out-of-fold predictions (rows with NaN left out)."""
    ok = np.isfinite(P).all(axis=1)
    y, p = Y[ok], P[ok]
    yc, pc = y - y.mean(0), p - p.mean(0)
    den = np.sqrt((yc**2).sum(0) * (pc**2).sum(0))
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(den > 0, (yc * pc).sum(0) / den, 0.0)
        sst = (yc**2).sum(0)
        r2 = np.where(sst > 0, 1.0 - ((y - p) ** 2).sum(0) / sst, 0.0)
    return r, r2


def purged_inner_cv(times: np.ndarray, n_splits: int, gap: float):
    """Inner folds (a callable for the solvers): contiguous blocks of the training rows,
    purged by ``gap`` seconds, so the penalty search never sees leaking neighbours either."""

    def inner(train: np.ndarray):
        t = times[train]
        folds = make_folds(t, n_splits, gap=gap).split(t)
        return [(train[a], train[b]) for a, b in folds]

    return inner


def check_fold_sizes(folds, n_features: int, name: str = "cv") -> None:
    """Too few samples in a fold -> error naming the fix."""
    for k, (tr, te) in enumerate(folds):
        if len(te) < 3 or len(tr) < 5:
            why = ""
            if len(te) == 0:
                why = (
                    " - none of the modelled words (the participant's own words for "
                    "production, the partner's for comprehension) falls in that fold's test "
                    "block, so nothing is held out there;"
                )
            raise ValueError(
                f"too few words for the folds: fold {k} of {name} has {len(tr)} training and "
                f"{len(te)} test words (after purging the lag window){why} use fewer folds, "
                "a shorter lag grid or a longer recording"
            )


def _builtin_nuisance(name: str, dyad, participant: str) -> np.ndarray:
    words = dyad.transcript.words
    on = words["onset"].to_numpy(float)
    if name == "word_rate":
        srt = np.sort(on)
        n = np.searchsorted(srt, on + 1.0) - np.searchsorted(srt, on - 1.0)
        return (n / 2.0)[:, None]
    if name in ("speaking", "listening"):
        ut = dyad.transcript.utterances
        who = participant if name == "speaking" else dyad.other(participant).id
        u = ut[ut["speaker"].astype(str) == who]
        a, b = u["onset"].to_numpy(float), u["offset"].to_numpy(float)
        inside = ((on[:, None] >= a[None, :]) & (on[:, None] < b[None, :])).any(axis=1)
        return inside.astype(float)[:, None]
    raise ValueError(
        f"nuisance names must be among ['word_rate', 'speaking', 'listening'] or arrays "
        f"(one row per word); got {name!r}"
    )


def nuisance_spaces(nuisance, dyad, participant: str) -> dict[str, np.ndarray]:
    """Nuisance spaces aligned to the transcript words: ``{'nuis_<name>': (n_words, k)}``."""
    if nuisance is None:
        return {}
    if isinstance(nuisance, str):
        nuisance = [nuisance]
    if not isinstance(nuisance, dict):
        nuisance = {n: n for n in nuisance}
    words = dyad.transcript.words.reset_index(drop=True)
    out = {}
    for name, obj in nuisance.items():
        arr = _builtin_nuisance(obj, dyad, participant) if isinstance(obj, str) else None
        if arr is None:
            arr, _ = _space_array(obj, words, f"nuisance[{name!r}]", None)
        out[f"nuis_{name}"] = np.asarray(arr, dtype=np.float64)
    return out


def make_word_folds(
    dyad, n_splits: int = 5, *, lags="zada2024", window: float | None = None, by: str = "blocks"
) -> Folds:
    """Folds over every word of a conversation, purged by the lag window: share them.

    Pass the result as ``cv=`` to every model of the dyad (both roles, both brains, every
    layer) so that held-out words match exactly.

    Parameters
    ----------
    dyad : hyperalign.Dyad
        The conversation.
    n_splits : int
        Number of folds.
    lags : str | array-like | WordLags
        The lag grid of the models (sets the purge gap to its span).
    window : float | None
        Averaging window (s).
    by : 'blocks' | 'turns'
        Equal-count blocks of words, or blocks whose edges snap to turn onsets.

    Returns
    -------
    folds : Folds
        Folds on the clock shared by both participants' words.
    """
    check_option("by", by, ("blocks", "turns"))
    wl = lags if isinstance(lags, WordLags) else resolve_lags(lags, window)
    words = dyad.transcript.words
    bnd = None
    if by == "turns":
        bnd = dyad.transcript.utterances["onset"].to_numpy(float)
    return make_folds(words["onset"].to_numpy(float), n_splits, gap=wl.span, boundaries=bnd,
                      duration=float(dyad.duration))  # fmt: skip
