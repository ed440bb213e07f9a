"""Whisper's encoder in ``transformers``, converted from a CTranslate2 (faster-whisper) model.

faster-whisper runs Whisper through CTranslate2, which exposes only the encoder's final
layer. To read every encoder layer, the same weights are loaded into ``transformers``'
:class:`~transformers.models.whisper.modeling_whisper.WhisperEncoder` (the encoder of
``WhisperModel``). The CTranslate2 ``model.bin`` is read directly (its binary format, version
6: a header, then ``name, shape, dtype, bytes`` per variable, then aliases) and the mapping of
CTranslate2's Whisper converter (``ctranslate2/converters/transformers.py``,
``WhisperLoader``) is inverted:

===============================================  ===========================================
CTranslate2 variable                             ``WhisperEncoder`` parameter
===============================================  ===========================================
``encoder/conv{1,2}/{weight,bias}``              ``conv{1,2}.{weight,bias}``
``encoder/position_encodings/encodings``         ``embed_positions.weight``
``encoder/layer_i/self_attention/linear_0``      ``layers.i.self_attn.{q,k,v}_proj`` (rows split
                                                 in three; ``k_proj`` has no bias)
``encoder/layer_i/self_attention/linear_1``      ``layers.i.self_attn.out_proj``
``encoder/layer_i/self_attention/layer_norm``    ``layers.i.self_attn_layer_norm``
                                                 (``gamma``/``beta`` = ``weight``/``bias``)
``encoder/layer_i/ffn/linear_{0,1}``             ``layers.i.fc{1,2}``
``encoder/layer_i/ffn/layer_norm``               ``layers.i.final_layer_norm``
``encoder/layer_norm``                           ``layer_norm``
===============================================  ===========================================

The configuration (``d_model``, layers, heads, feed-forward size, mel bins, positions) is read
from the weights' shapes and ``encoder/num_heads``. Weights stored as float16 are loaded as
float32; int8 weights are dequantised with their ``weight_scale``. The converted encoder is
saved once per machine (safetensors and ``config.json``) under ``<cache>/models/`` with the
same atomic write, manifest and lock as the GGUF copies
(:mod:`hyperalign.features.models`).
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
from pathlib import Path

import numpy as np

from ..utils import logger
from ._registry import _REGISTRY
from .models import _fingerprint, _load_or_build_copy, model_cache_dir

__all__ = [
    "read_ctranslate2_model",
    "whisper_encoder_state_dict",
    "load_whisper_encoder",
    "is_ctranslate2_model",
]

_CT2_DTYPES = ("float32", "int8", "int16", "int32", "float16", "bfloat16")


def is_ctranslate2_model(path) -> bool:
    """Whether ``path`` is a folder holding a CTranslate2 ``model.bin``.

    Parameters
    ----------
    path : str | path-like
        A folder.

    Returns
    -------
    is_ct2 : bool
        ``True`` if ``<path>/model.bin`` exists and starts with a known binary version.
    """
    f = Path(path) / "model.bin"
    try:
        with open(f, "rb") as fh:
            (version,) = struct.unpack("<I", fh.read(4))
    except (OSError, struct.error):
        return False
    return 1 <= version <= 6


def read_ctranslate2_model(path, *, prefix: str = "") -> dict[str, np.ndarray]:
    """Read the variables of a CTranslate2 ``model.bin``.

    Parameters
    ----------
    path : str | path-like
        The model folder (or the ``model.bin`` file).
    prefix : str
        Keep only variables whose name starts with this (e.g. ``'encoder/'``).

    Returns
    -------
    variables : dict of str to numpy.ndarray
        Name -> array in its stored dtype (bfloat16 is returned as float32). Aliases are
        resolved to the variable they name.
    """
    f = Path(path)
    f = f / "model.bin" if f.is_dir() else f
    buf = memoryview(f.read_bytes())
    pos = 0

    def take(fmt):
        nonlocal pos
        vals = struct.unpack_from("<" + fmt, buf, pos)
        pos += struct.calcsize("<" + fmt)
        return vals[0] if len(vals) == 1 else vals

    def string():
        nonlocal pos
        n = take("H")
        s = bytes(buf[pos : pos + n - 1]).decode("utf-8")
        pos += n
        return s

    version = take("I")
    if version != 6:
        raise ValueError(
            f"path: {f} is a CTranslate2 model of binary version {version}; only version 6 "
            "(CTranslate2 >= 3) can be read; re-convert it with a recent ct2-transformers-"
            "converter"
        )
    string()  # spec name
    take("I")  # spec revision
    out: dict[str, np.ndarray] = {}
    for _ in range(take("I")):
        name = string()
        ndim = take("B")
        shape = tuple(take("I") for _ in range(ndim))
        dtype = _CT2_DTYPES[take("B")]
        nbytes = take("I")
        raw = buf[pos : pos + nbytes]
        pos += nbytes
        if not name.startswith(prefix):
            continue
        if dtype == "bfloat16":
            arr = (np.frombuffer(raw, np.uint16).astype(np.uint32) << 16).view(np.float32)
        else:
            arr = np.frombuffer(raw, np.dtype(dtype))
        out[name] = arr.reshape(shape).copy()
    for _ in range(take("I")):
        alias, target = string(), string()
        if alias.startswith(prefix) and target in out:
            out[alias] = out[target]
    return out


def _float(variables: dict, name: str) -> np.ndarray:
    w = variables[name]
    scale = variables.get(name + "_scale")
    if w.dtype == np.int8 and scale is not None:  # CTranslate2 int8: w_float = w_int8 / scale
        s = np.asarray(scale, np.float32)
        return w.astype(np.float32) / (s.reshape(-1, *([1] * (w.ndim - 1))) if s.ndim else s)
    return w.astype(np.float32)


def whisper_encoder_state_dict(variables: dict[str, np.ndarray]) -> tuple[dict, dict]:
    """Map CTranslate2 Whisper encoder variables to a ``WhisperEncoder`` state dict.

    Parameters
    ----------
    variables : dict of str to numpy.ndarray
        From :func:`read_ctranslate2_model` (names starting with ``'encoder/'``).

    Returns
    -------
    state_dict : dict of str to numpy.ndarray
        Float32 arrays keyed by ``WhisperEncoder`` parameter names.
    config : dict
        ``WhisperConfig`` arguments read from the shapes (``d_model``, ``encoder_layers``,
        ``encoder_attention_heads``, ``encoder_ffn_dim``, ``num_mel_bins``,
        ``max_source_positions``).
    """
    v = variables
    n_layers = 0
    while f"encoder/layer_{n_layers}/ffn/linear_0/weight" in v:
        n_layers += 1
    if not n_layers or "encoder/conv1/weight" not in v:
        raise ValueError(
            "variables: not a Whisper encoder (no encoder/conv1 or encoder/layer_0 variables); "
            "pass a faster-whisper / CTranslate2 Whisper model folder"
        )
    d_model, n_mels, _ = v["encoder/conv1/weight"].shape
    sd = {
        "conv1.weight": _float(v, "encoder/conv1/weight"),
        "conv1.bias": _float(v, "encoder/conv1/bias"),
        "conv2.weight": _float(v, "encoder/conv2/weight"),
        "conv2.bias": _float(v, "encoder/conv2/bias"),
        "embed_positions.weight": _float(v, "encoder/position_encodings/encodings"),
        "layer_norm.weight": _float(v, "encoder/layer_norm/gamma"),
        "layer_norm.bias": _float(v, "encoder/layer_norm/beta"),
    }
    for i in range(n_layers):
        src, dst = f"encoder/layer_{i}", f"layers.{i}"
        qkv_w = _float(v, f"{src}/self_attention/linear_0/weight")
        qkv_b = _float(v, f"{src}/self_attention/linear_0/bias")
        for k, name in enumerate(("q_proj", "k_proj", "v_proj")):
            sd[f"{dst}.self_attn.{name}.weight"] = qkv_w[k * d_model : (k + 1) * d_model]
            if name != "k_proj":  # CTranslate2 stores zeros for the key bias Whisper lacks
                sd[f"{dst}.self_attn.{name}.bias"] = qkv_b[k * d_model : (k + 1) * d_model]
        pairs = {
            "self_attn.out_proj": "self_attention/linear_1",
            "fc1": "ffn/linear_0",
            "fc2": "ffn/linear_1",
        }
        for hf, ct in pairs.items():
            sd[f"{dst}.{hf}.weight"] = _float(v, f"{src}/{ct}/weight")
            sd[f"{dst}.{hf}.bias"] = _float(v, f"{src}/{ct}/bias")
        for hf, ct in (("self_attn_layer_norm", "self_attention"), ("final_layer_norm", "ffn")):
            sd[f"{dst}.{hf}.weight"] = _float(v, f"{src}/{ct}/layer_norm/gamma")
            sd[f"{dst}.{hf}.bias"] = _float(v, f"{src}/{ct}/layer_norm/beta")
    heads = int(np.asarray(v.get("encoder/num_heads", d_model // 64)))
    config = {
        "d_model": int(d_model),
        "encoder_layers": n_layers,
        "encoder_attention_heads": heads,
        "encoder_ffn_dim": int(v["encoder/layer_0/ffn/linear_0/weight"].shape[0]),
        "num_mel_bins": int(n_mels),
        "max_source_positions": int(v["encoder/position_encodings/encodings"].shape[0]),
    }
    return sd, config


def _build_encoder(config: dict, state_dict: dict):
    import torch
    from transformers import WhisperConfig
    from transformers.models.whisper.modeling_whisper import WhisperEncoder

    cfg = WhisperConfig(
        **config,
        decoder_layers=config["encoder_layers"],
        decoder_attention_heads=config["encoder_attention_heads"],
        decoder_ffn_dim=config["encoder_ffn_dim"],
    )
    enc = WhisperEncoder(cfg)
    tensors = {k: torch.as_tensor(np.ascontiguousarray(a)) for k, a in state_dict.items()}
    missing, unexpected = enc.load_state_dict(tensors, strict=False)
    missing = [m for m in missing if not m.endswith("k_proj.bias")]
    if missing or unexpected:
        raise ValueError(
            f"the converted Whisper weights do not fit WhisperEncoder: missing {missing[:5]}, "
            f"unexpected {unexpected[:5]}"
        )
    return enc.eval()


def _converted_copy(ct2_path: Path, copies: Path | None):
    """(config, state_dict) of the encoder, from the per-machine copy when there is one."""
    from safetensors.numpy import load_file, save_file

    src = ct2_path / "model.bin"
    fp = _fingerprint(src)
    if copies is None:
        sd, cfg = whisper_encoder_state_dict(read_ctranslate2_model(ct2_path, prefix="encoder/"))
        return cfg, sd, "ctranslate2"
    tag = hashlib.sha256(json.dumps(fp, sort_keys=True).encode()).hexdigest()[:16]
    folder = copies / f"whisper-encoder-{ct2_path.name}-{tag}"

    def _load_copy():
        try:
            cfg = json.loads((folder / "encoder_config.json").read_text())
            return cfg, load_file(str(folder / "encoder.safetensors")), "copy"
        except (OSError, ValueError) as err:
            logger.warning("whisper encoder copy %s is broken (%s); rebuilding it", folder, err)
            return None

    def _build():
        sd, cfg = whisper_encoder_state_dict(read_ctranslate2_model(ct2_path, prefix="encoder/"))

        def _save(tmp: Path) -> None:
            save_file({k: np.ascontiguousarray(a) for k, a in sd.items()}, str(tmp / "enc.part"))
            os.replace(tmp / "enc.part", tmp / "encoder.safetensors")
            (tmp / "encoder_config.json").write_text(json.dumps(cfg, indent=1))

        return (cfg, sd, "ctranslate2"), _save

    return _load_or_build_copy(
        folder, fp, _load_copy, _build, who="whisper encoder", fmt="transformers"
    )


def load_whisper_encoder(path, *, device: str | None = None, cache=None):
    """Load the encoder of a CTranslate2 Whisper model into ``transformers`` (once per process).

    Parameters
    ----------
    path : str | path-like
        A faster-whisper / CTranslate2 Whisper model folder (``model.bin``).
    device : str | None
        ``None`` picks CUDA when present.
    cache : None | False | path
        Where the converted copy is kept (``None``: the machine's cache folder; ``False``:
        convert in every process).

    Returns
    -------
    encoder : transformers.models.whisper.modeling_whisper.WhisperEncoder
        In evaluation mode, float32, on ``device``.
    info : dict
        ``path``, ``config`` (the ``WhisperConfig`` arguments), ``source`` (``'copy'`` or
        ``'ctranslate2'``), ``device``.
    """
    from ..backend import get_device

    dev = get_device(device)
    ct2 = Path(path).expanduser().resolve()
    copies = None if cache is False else model_cache_dir(cache)

    def _build():
        cfg, sd, source = _converted_copy(ct2, copies)
        enc = _build_encoder(cfg, sd).to(dev)
        logger.info("whisper encoder %s: %d layers (from %s)", ct2, cfg["encoder_layers"], source)
        return enc, {"path": str(ct2), "config": cfg, "source": source, "device": dev}

    return _REGISTRY.get(("whisper-encoder", str(ct2), dev, str(copies)), _build)
