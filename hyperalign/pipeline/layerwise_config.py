"""Configuration of the layer-wise encoding pipeline: JSON Schema, defaults, loading.

The bundled ``configs/layerwise_encoding.yaml`` (the same file as ``pipelines/``) holds every
default. A user file is merged into it the way the semantic pipeline's is
(:func:`~hyperalign.pipeline.merge_sections`): top-level sections key by key, and a mapping or
list the user gives (``simulation.layer_hierarchy``, ``encoding.rois``, ...) replaces the
default whole. Unknown keys, wrong types and inconsistent settings are all reported at once,
before anything is computed. ``data_specs/layerwise_pipeline.schema.json`` is this module's
:data:`LAYERWISE_SCHEMA` (a test keeps them identical).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from .config import ConfigError, _read_yaml, _schema_problem, apply_overrides, merge_sections

__all__ = [
    "LAYERWISE_SCHEMA",
    "LAYERWISE_CONFIG",
    "is_layerwise_config",
    "load_layerwise_config",
]

ANALYSIS = "layerwise_encoding"
LAYERWISE_CONFIG = Path(__file__).resolve().parent / "configs" / "layerwise_encoding.yaml"

_NUM = {"type": "number"}
_NUM_NULL = {"type": ["number", "null"]}
_SEED = {"type": ["integer", "null"]}
_LAYERS = {
    "description": "'all', or hidden-state indices / layer names",
    "type": ["string", "array"],
    "items": {"type": ["integer", "string"]},
}
_GRID = {
    "description": "a preset ('zada2024', 'goldstein2022'), a list of lags (s), or a range",
    "type": ["string", "array", "object"],
    "items": _NUM,
    "minItems": 1,
    "additionalProperties": False,
    "required": ["start", "stop", "step"],
    "properties": {"start": _NUM, "stop": _NUM, "step": {"type": "number", "exclusiveMinimum": 0}},
}


def _obj(props: dict, required: tuple = (), null: bool = False) -> dict:
    node: dict = {
        "type": ["object", "null"] if null else "object",
        "additionalProperties": False,
        "properties": props,
    }
    if required:
        node["required"] = list(required)
    return node


_H_ROW = _obj(
    {
        "roi": {"type": "string"},
        "layer": {"type": ["string", "integer"]},
        "role": {"enum": ["listener", "speaker", "both"]},
        "lag": _NUM,
        "size": _NUM,
        "null": {"type": "boolean"},
    },
    ("roi", "layer"),
)
_C_ROW = _obj(
    {
        "speaker_roi": {"type": "string"},
        "listener_roi": {"type": "string"},
        "layer": {"type": ["string", "integer"]},
        "speaker_lag": _NUM,
        "listener_lag": _NUM,
        "size": _NUM,
        "null": {"type": "boolean"},
    },
    ("speaker_roi", "listener_roi", "layer"),
)

LAYERWISE_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "hyperalign layer-wise encoding pipeline",
    "type": "object",
    "additionalProperties": False,
    "required": ["analysis", "name"],
    "properties": {
        "analysis": {"const": ANALYSIS},
        "name": {"type": "string"},
        "out": {"type": ["string", "null"]},
        "data": _obj({
            "source": {"enum": ["demo", "bids"]},
            "root": {"type": ["string", "null"]},
            "task": {"type": ["string", "null"]},
            "on_error": {"enum": ["exclude", "raise"]},
            "n_dyads": {"type": "integer", "minimum": 1},
            "duration": {"type": "number", "exclusiveMinimum": 0},
            "n_channels": {"type": "integer", "minimum": 1},
            "sfreq": {"type": "number", "exclusiveMinimum": 0},
            "random_state": _SEED,
            "bids_roundtrip": {"type": "boolean"},
        }),
        "simulation": _obj({
            "layer_source": {"enum": ["text_model", "simulated"]},
            "layer_hierarchy": {"type": ["array", "null"], "items": _H_ROW},
            "model_coupling": {"type": ["array", "null"], "items": _C_ROW},
        }),
        "features": _obj({
            "text_model": _obj({
                "name": {"type": "string"},
                "layers": _LAYERS,
                "context_words": {"type": "integer", "minimum": 0},
                "stride": {"type": "integer", "minimum": 1},
            }, ("name",)),
            "speech_model": _obj({
                "name": {"type": "string"},
                "layers": _LAYERS,
            }, ("name",), null=True),
            "controls": {
                "type": "array",
                "items": {"enum": ["static", "random", "shuffled", "acoustic"]},
                "uniqueItems": True,
            },
            "embedding_cache": {"type": ["string", "null"]},
        }),
        "encoding": _obj({
            "roles": {
                "type": "array",
                "items": {"enum": ["production", "comprehension"]},
                "minItems": 1,
                "uniqueItems": True,
            },
            "lags": _GRID,
            "window": _NUM_NULL,
            "cv": {"type": "integer", "minimum": 2},
            "inner_cv": {"type": "integer", "minimum": 2},
            "alpha_search": {"enum": ["inner_cv", "gcv"]},
            "n_components": {"type": ["integer", "null"], "minimum": 1},
            "rois": {"type": ["string", "object"]},
            "self_baseline": {"type": "boolean"},
            "noise_ceiling": {"enum": ["none", "split_half"]},
        }),
        "hierarchy": _obj({
            "order": {"type": "array", "items": {"type": "string"}, "minItems": 2},
            "role": {"enum": ["production", "comprehension"]},
            "lag_range": {"type": ["array", "null"], "items": _NUM, "minItems": 2,
                          "maxItems": 2},
            "n_boot": {"type": "integer", "minimum": 1},
            "n_permutations": {"type": "integer", "minimum": 1},
            "random_state": _SEED,
        }),
        "coupling": _obj({
            "enabled": {"type": "boolean"},
            "layer": {"type": ["string", "integer"]},
            "nuisance": {"type": "array", "items": {"enum": ["acoustic", "word_rate"]},
                         "uniqueItems": True},
            "lags": _GRID,
            "window": _NUM_NULL,
            "null_method": {"enum": ["circular", "phase", "shuffle_turns"]},
            "n_permutations": {"type": "integer", "minimum": 0},
            "group_method": {"enum": ["sign_flip", "bootstrap"]},
            "group_permutations": {"type": "integer", "minimum": 1},
            "n_boot": {"type": "integer", "minimum": 1},
            "random_state": _SEED,
        }),
        "report": _obj({"html": {"type": "boolean"}, "figures": {"type": "boolean"}}),
        "execution": _obj({
            "n_jobs": {"type": "integer"},
            "cache": {"type": "boolean"},
        }),
    },
}  # fmt: skip


def is_layerwise_config(config: str | Path | dict) -> bool:
    """Whether a pipeline file (or mapping) is a layer-wise encoding pipeline.

    Parameters
    ----------
    config : path-like | dict
        A pipeline YAML or a parsed mapping.

    Returns
    -------
    layerwise : bool
        ``True`` when its top level has ``analysis: layerwise_encoding``; an unreadable file
        is not (the semantic pipeline's loader then reports what is wrong with it).
    """
    if isinstance(config, dict):
        return config.get("analysis") == ANALYSIS
    try:
        user = yaml.safe_load(Path(config).read_text(encoding="utf-8"))
    except (OSError, ValueError, yaml.YAMLError):
        return False
    return isinstance(user, dict) and user.get("analysis") == ANALYSIS


def load_layerwise_config(
    config: str | Path | dict, overrides: dict | None = None
) -> dict[str, Any]:
    """Read a layer-wise pipeline YAML, fill the defaults, apply overrides and validate.

    Parameters
    ----------
    config : path-like | dict
        The YAML file (``pipelines/layerwise_encoding.yaml`` or a copy) or a parsed mapping.
    overrides : dict | None
        ``{'section.key': value}`` settings applied on top (``--set`` on the command line).

    Returns
    -------
    config : dict
        The validated configuration, every default filled.

    Raises
    ------
    FileNotFoundError
        If ``config`` is a path that does not exist.
    ConfigError
        Listing every problem: unknown keys (named, with the allowed ones), wrong types or
        values, and inconsistent settings (an ROI ordering naming unknown ROIs, a coupling
        layer that is not swept, ...).

    See Also
    --------
    hyperalign.pipeline.layerwise.run_layerwise_pipeline
    """
    base = yaml.safe_load(LAYERWISE_CONFIG.read_text(encoding="utf-8"))
    if isinstance(config, dict):
        user = copy.deepcopy(config)
    else:
        path = Path(config)
        if not path.is_file():
            raise FileNotFoundError(
                f"pipeline config {str(path)!r} not found; give the path of a YAML file (e.g. "
                "pipelines/layerwise_encoding.yaml)"
            )
        user = _read_yaml(path)
    cfg = apply_overrides(merge_sections(base, user), overrides, schema=LAYERWISE_SCHEMA)
    validate_layerwise_config(cfg)
    return cfg


def validate_layerwise_config(cfg: dict) -> None:
    """Validate against :data:`LAYERWISE_SCHEMA` and the consistency checks, all at once.

    Parameters
    ----------
    cfg : dict
        A complete layer-wise config (as :func:`load_layerwise_config` returns it). Integer
        settings given as whole floats (``1000.0``) are converted in place.

    Raises
    ------
    ConfigError
        Every problem, one line each (key path, what is wrong, the fix).
    """
    import jsonschema

    for sec in ("data", "encoding", "coupling", "hierarchy"):  # 1000.0 -> 1000 for integers
        block = cfg.get(sec)
        node = LAYERWISE_SCHEMA["properties"].get(sec, {}).get("properties", {})
        if isinstance(block, dict):
            for k, v in block.items():
                t = node.get(k, {}).get("type")
                t = t if isinstance(t, list) else [t]
                if "integer" in t and isinstance(v, float) and v.is_integer():
                    block[k] = int(v)
    validator = jsonschema.Draft202012Validator(LAYERWISE_SCHEMA)
    errors = sorted(validator.iter_errors(cfg), key=lambda e: list(map(str, e.path)))
    problems = [_schema_problem(e) for e in errors]
    if not problems:
        problems = _check(cfg)
    if problems:
        raise ConfigError(problems, what="invalid layer-wise pipeline config")


def _check(cfg: dict) -> list[str]:
    """Consistency checks the schema cannot express."""
    out = []
    d, f, e, h, c = (cfg[k] for k in ("data", "features", "encoding", "hierarchy", "coupling"))
    if d["source"] == "bids" and not d.get("root"):
        out.append("data.root: empty with data.source: bids; give the BIDS root")
    if f["text_model"]["name"] == "simulated" and d["source"] != "demo":
        out.append("features.text_model.name: 'simulated' exists only for data.source: demo; "
                   "give a language model (e.g. smollm2)")  # fmt: skip
    sim = cfg.get("simulation") or {}
    if f["text_model"]["name"] == "simulated" and not (
        sim.get("layer_hierarchy") or sim.get("model_coupling")
    ):
        out.append("features.text_model.name: 'simulated' needs planted layers; give "
                   "simulation.layer_hierarchy or simulation.model_coupling")  # fmt: skip
    rois = e["rois"]
    if isinstance(rois, str) and rois != "auto":
        out.append(f"encoding.rois: got {rois!r}; give 'auto' or {{name: [channels]}}")
    names = None
    if isinstance(rois, dict):
        names = list(rois)
        for k, v in rois.items():
            if not isinstance(v, list) or not v or not all(isinstance(x, str) for x in v):
                out.append(f"encoding.rois.{k}: give a non-empty list of channel names")
    elif rois == "auto":
        from ..simulation._layers import ROI_ORDER

        names = list(ROI_ORDER)
    if names is not None:
        bad = [r for r in h["order"] if r not in names]
        if bad or len(set(h["order"])) != len(h["order"]):
            out.append(
                f"hierarchy.order: {h['order']} names unknown or repeated ROIs {bad}; the ROIs "
                f"are {names} (define others in encoding.rois)"
            )
    if h["role"] not in e["roles"]:
        out.append(f"hierarchy.role: {h['role']!r} is not among encoding.roles {e['roles']}; "
                   "add it there or test another role")  # fmt: skip
    lr = h.get("lag_range")
    if lr is not None and lr[0] >= lr[1]:
        out.append(f"hierarchy.lag_range: {lr}; give [low, high] with low < high (s)")
    for sec, grid in (("encoding", e["lags"]), ("coupling", c["lags"])):
        if isinstance(grid, dict) and grid["stop"] < grid["start"]:
            out.append(f"{sec}.lags: stop {grid['stop']} < start {grid['start']}")
        if isinstance(grid, str) and grid not in ("zada2024", "goldstein2022"):
            out.append(f"{sec}.lags: unknown preset {grid!r}; give zada2024, goldstein2022, a "
                       "list of lags or {start, stop, step}")  # fmt: skip
        if not isinstance(grid, str) and cfg[sec].get("window") is None:
            out.append(f"{sec}.window: null with a custom lag grid; give the window (s)")
    if e["noise_ceiling"] == "split_half":
        out.append(
            "encoding.noise_ceiling: split_half needs repeated stimuli (the same speech heard "
            "twice or by several listeners), which a two-person conversation does not have; "
            "set none (the report then says that no ceiling was possible)"
        )
    if c["enabled"] and f["text_model"]["name"] != "simulated":
        lay = c["layer"]
        sel = f["text_model"]["layers"]
        if isinstance(sel, list) and isinstance(lay, int) and lay not in sel:
            out.append(f"coupling.layer: {lay} is not among features.text_model.layers {sel}; "
                       "add it there or choose a swept layer")  # fmt: skip
        if isinstance(sel, list) and isinstance(lay, str) and lay.startswith("layer_"):
            idx = lay.removeprefix("layer_")
            if idx.isdigit() and int(idx) not in sel and lay not in sel:
                out.append(f"coupling.layer: {lay!r} is not among features.text_model.layers "
                           f"{sel}; add {int(idx)} there or choose a swept layer")  # fmt: skip
    return out
