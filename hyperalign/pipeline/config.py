"""Pipeline configuration: YAML files validated against a JSON Schema, with defaults."""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Any

import yaml

_NUM = {"type": "number"}
_STR_LIST = {"type": "array", "items": {"type": "string"}}

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "hyperalign pipeline",
    "type": "object",
    "additionalProperties": False,
    "required": ["name"],
    "properties": {
        "name": {"type": "string"},
        "out": {"type": ["string", "null"]},
        "data": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "source": {"enum": ["demo", "bids"]},
                "root": {"type": ["string", "null"]},
                "n_dyads": {"type": "integer", "minimum": 1},
                "duration": {"type": "number", "exclusiveMinimum": 0},
                "n_channels": {"type": "integer", "minimum": 1},
                "sfreq": {"type": "number", "exclusiveMinimum": 0},
                "random_state": {"type": ["integer", "null"]},
                "bids_roundtrip": {"type": "boolean"},
                "task": {"type": ["string", "null"]},
            },
        },
        "features": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "semantic_model": {"type": "string"},
                "acoustic": {"type": "boolean"},
                "f0_method": {"enum": ["praat", "pyin"]},
                "layers": {
                    "type": ["object", "null"],
                    "additionalProperties": False,
                    "properties": {
                        "model": {"type": ["string", "null"]},
                        "context_words": {"type": "integer", "minimum": 0},
                        "stride": {"type": "integer", "minimum": 1},
                    },
                },
                "speech_embeddings": {"type": "boolean"},
                "controls": {
                    "type": "array",
                    "items": {"enum": ["static", "random", "shuffled"]},
                },
            },
        },
        "coupling": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "metrics": _STR_LIST,
                "bands": {
                    "type": "object",
                    "additionalProperties": {
                        "type": "array",
                        "items": _NUM,
                        "minItems": 2,
                        "maxItems": 2,
                    },
                },
                "epochs": {"enum": ["utterances", "fixed", "turns"]},
                "window": {"type": ["number", "null"]},
                "lags": {"type": "array", "items": _NUM, "minItems": 1},
                "min_duration": {"type": "number", "minimum": 0},
                "rois": {"type": ["string", "object", "null"]},
                "roi_pairs": {"enum": ["homologous", "all"]},
                "filter": {"enum": ["hypyp", "fft"]},
                "filter_kwargs": {"type": ["object", "null"]},
                "surrogates": {
                    "type": ["object", "null"],
                    "additionalProperties": False,
                    "properties": {
                        "method": {
                            "enum": [
                                "circular_shift",
                                "phase_randomization",
                                "segment_shuffle",
                                "pseudo_dyads",
                            ]
                        },
                        "n": {"type": "integer", "minimum": 1},
                    },
                },
            },
        },
        "stats": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "sync": {"type": "string"},
                "metric": {"type": "string"},
                "semantic": _STR_LIST,
                "acoustic": _STR_LIST,
                "covariates": _STR_LIST,
                "groups": {"type": "string"},
                "by": _STR_LIST,
                "n_permutations": {"type": "integer", "minimum": 0},
                "correction": {"enum": ["maxstat", "fdr", "holm", "bonferroni", None]},
                "alpha": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
                "random_state": {"type": ["integer", "null"]},
                "scheme": {"type": "string"},
            },
        },
        "report": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"html": {"type": "boolean"}, "figures": {"type": "boolean"}},
        },
        "execution": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "n_jobs": {"type": "integer"},
                "executor": {"enum": ["joblib", "dask"]},
                "cache": {"type": "boolean"},
            },
        },
    },
}

DEFAULT_CONFIG = Path(__file__).resolve().parent / "configs" / "semantic_vs_acoustic.yaml"


def _deep_update(base: dict, new: dict) -> dict:
    for k, v in new.items():
        if isinstance(v, dict) and isinstance(base.get(k), dict):
            _deep_update(base[k], v)
        else:
            base[k] = v
    return base


def _coerce(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    return yaml.safe_load(value)


def apply_overrides(config: dict, overrides: dict[str, Any] | None) -> dict:
    """Set ``'section.key': value`` overrides (strings are parsed as YAML scalars)."""
    config = copy.deepcopy(config)
    for dotted, value in (overrides or {}).items():
        node = config
        parts = dotted.split(".")
        for p in parts[:-1]:
            if node.get(p) is None:
                node[p] = {}
            node = node[p]
        node[parts[-1]] = _coerce(value)
    return config


def load_config(path: str | Path | dict, overrides: dict | None = None) -> dict:
    """Read a pipeline YAML, fill defaults from the bundled pipeline, apply overrides, validate.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        Listing every schema violation (key path and message).
    """
    base = yaml.safe_load(DEFAULT_CONFIG.read_text())
    if isinstance(path, dict):
        user = copy.deepcopy(path)
    else:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(
                f"pipeline config {path} not found (see pipelines/ for examples)"
            )
        user = yaml.safe_load(path.read_text()) or {}
        if not isinstance(user, dict):
            raise ValueError(f"pipeline config {path}: expected a mapping at top level")
    config = _deep_update(base, user)
    config = apply_overrides(config, overrides)
    validate_config(config)
    return config


def validate_config(config: dict) -> None:
    """Validate ``config`` against :data:`SCHEMA`, listing every problem."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(SCHEMA)
    errors = sorted(validator.iter_errors(config), key=lambda e: list(e.path))
    if errors:
        lines = [f"  - {'.'.join(map(str, e.path)) or '<top>'}: {e.message}" for e in errors]
        raise ValueError("invalid pipeline config:\n" + "\n".join(lines))


def config_hash(*parts: Any) -> str:
    """A stable short hash of JSON-serialisable parts (cache keys)."""
    blob = json.dumps(parts, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]
