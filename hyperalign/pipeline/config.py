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
                "on_error": {"enum": ["exclude", "raise"]},
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
                    "required": ["method", "n"],
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
            "properties": {
                "html": {"type": "boolean"},
                "figures": {"type": "boolean"},
                "links": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["title", "href"],
                        "properties": {"title": {"type": "string"}, "href": {"type": "string"}},
                    },
                },
            },
        },
        "execution": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "n_jobs": {"type": "integer"},
                "executor": {"enum": ["joblib", "dask"]},
                "scheduler": {"type": ["string", "object", "null"]},
                "cache": {"type": "boolean"},
            },
        },
    },
}

DEFAULT_CONFIG = Path(__file__).resolve().parent / "configs" / "semantic_vs_acoustic.yaml"


#: Settings absent from the bundled YAML, with their defaults.
EXTRA_DEFAULTS: dict[str, dict[str, Any]] = {"data": {"on_error": "exclude"}}


class ConfigError(ValueError):
    """An invalid pipeline configuration; ``problems`` lists every problem found.

    Parameters
    ----------
    problems : list of str
        Every problem found, each naming the key, what is wrong and the fix.
    what : str
        What was invalid (the head of the message).

    See Also
    --------
    validate_config, load_config
    """

    def __init__(self, problems: list[str], *, what: str = "invalid pipeline config"):
        self.problems = list(problems)
        n = len(self.problems)
        head = f"{what} ({n} problem{'s' if n != 1 else ''}; fix them all, then rerun):"
        super().__init__(head + "\n" + "\n".join(f"  - {p}" for p in self.problems))


def merge_sections(base: dict, user: dict) -> dict:
    """Merge a user config into the defaults: top-level sections key by key, nothing deeper.

    A mapping the user gives (``coupling.bands``, ``features.layers``, ...) replaces the
    default mapping whole: ``bands: {theta: [4, 8]}`` runs theta only, never theta plus the
    default alpha.

    Parameters
    ----------
    base : dict
        Defaults (modified in place).
    user : dict
        The user's settings.

    Returns
    -------
    config : dict
        ``base``, updated.
    """
    for k, v in user.items():
        if isinstance(v, dict) and isinstance(base.get(k), dict):
            for kk, vv in v.items():
                base[k][kk] = copy.deepcopy(vv)
        else:
            base[k] = copy.deepcopy(v)
    return base


def _types(node: dict) -> set[str]:
    t = node.get("type")
    types = set(t) if isinstance(t, list) else ({t} if t else set())
    if "enum" in node:
        types |= {"enum"}
    return types


def schema_node(dotted: str, schema: dict | None = None) -> dict | None:
    """The node of ``'section.key[.sub]'`` in ``schema`` (default :data:`SCHEMA`), or ``None``
    if no such key."""
    node: dict = SCHEMA if schema is None else schema
    for part in dotted.split("."):
        props = node.get("properties")
        if props is not None and part in props:
            node = props[part]
        elif isinstance(node.get("additionalProperties"), dict):
            node = node["additionalProperties"]
        else:
            return None
    return node


def _allowed_keys(dotted: str, schema: dict | None = None) -> list[str]:
    parent = dotted.rsplit(".", 1)[0] if "." in dotted else ""
    node = schema_node(parent, schema) if parent else (SCHEMA if schema is None else schema)
    return sorted((node or {}).get("properties", {}))


def _coerce(value: Any, node: dict | None = None) -> Any:
    """Parse a ``--set`` string by the type the schema expects at that key.

    Strings are parsed as YAML (``[plv, wpli]``, ``{theta: [4, 8]}``, ``true``, ``200``), except
    where the key holds a string and YAML would turn it into something else (``task=01`` stays
    ``'01'``, ``name=yes`` stays ``'yes'``); ``1e3`` is a number where a number is expected.
    """
    if not isinstance(value, str):
        return value
    parsed = yaml.safe_load(value) if value.strip() else value
    types = _types(node or {})
    if not types:
        return parsed
    if "string" in types and not isinstance(parsed, str):
        if parsed is None and "null" in types:
            return None
        if not isinstance(parsed, list | dict):
            return value
    if types == {"array"} and parsed is not None and not isinstance(parsed, list | dict):
        return [_coerce(value, node.get("items"))]  # --set coupling.lags=0.1 -> [0.1]
    if isinstance(parsed, str) and types & {"number", "integer"}:
        try:
            num = float(parsed)
        except ValueError:
            return parsed
        return int(num) if "integer" in types and num.is_integer() else num
    return parsed


def apply_overrides(
    config: dict, overrides: dict[str, Any] | None, *, schema: dict | None = None
) -> dict:
    """Set ``'section.key': value`` overrides (strings parsed by the type the key expects).

    A dotted path to a key inside a mapping (``coupling.bands.theta``) sets that entry only; a
    whole mapping (``coupling.bands={theta: [4, 8]}``) replaces the mapping.

    Parameters
    ----------
    config : dict
        The configuration (not modified).
    overrides : dict | None
        ``{'section.key': value}``; a string value is parsed as YAML into the type the key
        expects (``'[4, 8]'`` becomes a list).
    schema : dict | None
        The JSON schema the keys and types come from (default :data:`SCHEMA`; the layer-wise
        pipeline passes its own).

    Returns
    -------
    config : dict
        A copy of ``config`` with the overrides applied (not validated; see
        :func:`validate_config`).

    Raises
    ------
    ConfigError
        Listing every unknown key and every value that is not valid YAML.
    """
    import difflib

    config = copy.deepcopy(config)
    problems = []
    for dotted, value in (overrides or {}).items():
        node = schema_node(dotted, schema)
        if node is None or not dotted:
            allowed = _allowed_keys(dotted, schema)
            last = dotted.rsplit(".", 1)[-1]
            near = difflib.get_close_matches(last, allowed, n=1)
            hint = f"; did you mean {near[0]!r}?" if near else ""
            problems.append(
                f"--set {dotted}: unknown key {last!r}{hint} (allowed here: {allowed})"
            )
            continue
        try:
            val = _coerce(value, node)
        except yaml.YAMLError as err:
            problems.append(
                f"--set {dotted}={value}: not a valid YAML value ({_yaml_problem(err)}); "
                "quote lists as '[a, b]' and mappings as '{k: v}'"
            )
            continue
        target = config
        parts = dotted.split(".")
        for p in parts[:-1]:
            if not isinstance(target.get(p), dict):
                target[p] = {}
            target = target[p]
        target[parts[-1]] = val
    if problems:
        raise ConfigError(problems, what="invalid --set override")
    return config


def _yaml_problem(err: Exception) -> str:
    mark = getattr(err, "problem_mark", None)
    problem = getattr(err, "problem", None) or str(err).splitlines()[0]
    if mark is not None:
        return f"{problem} at line {mark.line + 1}, column {mark.column + 1}"
    return str(problem)


def _read_yaml(path: Path) -> dict:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise ConfigError(
            [f"{path}: not UTF-8 text (byte {err.start}); save the file as UTF-8"],
            what="unreadable pipeline config",
        ) from None
    try:
        user = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise ConfigError(
            [
                f"{path}: YAML syntax error: {_yaml_problem(err)}; fix the file (common "
                "causes: a tab for indentation, a missing space after ':', an unclosed "
                "bracket or quote)"
            ],
            what="unreadable pipeline config",
        ) from None
    if user is None:
        return {}
    if not isinstance(user, dict):
        raise ConfigError(
            [f"{path}: expected a mapping of sections at top level; got {type(user).__name__}"],
            what="unreadable pipeline config",
        )
    return user


def load_config(path: str | Path | dict, overrides: dict | None = None) -> dict:
    """Read a pipeline YAML, fill defaults from the bundled pipeline, apply overrides, validate.

    Top-level sections merge with the defaults key by key; a mapping inside a section
    replaces the default mapping (see :func:`merge_sections`).

    Parameters
    ----------
    path : path-like | dict
        Pipeline YAML or an already-parsed mapping.
    overrides : dict | None
        ``{'section.key': value}`` (see :func:`apply_overrides`).

    Returns
    -------
    config : dict
        The validated configuration.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ConfigError
        (a ``ValueError``) listing every problem: YAML syntax, unknown keys, wrong types and
        values, and inconsistent settings (see :func:`hyperalign.pipeline.checks.check_config`).

    See Also
    --------
    run_pipeline, apply_overrides, validate_config

    Examples
    --------
    The bundled pipeline with two settings changed:

    >>> from hyperalign.pipeline import load_config
    >>> cfg = load_config({"data": {"n_dyads": 4}}, overrides={"stats.n_permutations": "200"})
    >>> cfg["data"]["n_dyads"], cfg["stats"]["n_permutations"], cfg["stats"]["correction"]
    (4, 200, 'maxstat')

    Every problem is reported at once:

    >>> load_config({"stats": {"n_permutations": -1, "corection": "fdr"}})
    Traceback (most recent call last):
        ...
    hyperalign.pipeline.config.ConfigError: invalid pipeline config (3 problems; ...):
      - stats: unknown key 'corection'; did you mean 'correction'? ...
      - stats.n_permutations: -1 is less than the minimum of 0
      - stats.n_permutations: -1, but correction 'maxstat' needs permutations; ...
    """
    base = yaml.safe_load(DEFAULT_CONFIG.read_text())
    merge_sections(base, copy.deepcopy(EXTRA_DEFAULTS))
    if isinstance(path, dict):
        user = copy.deepcopy(path)
    else:
        path = Path(path)
        if not path.is_file():
            what = "is a folder, not a file" if path.is_dir() else "not found"
            raise FileNotFoundError(
                f"pipeline config {str(path)!r} {what}; give the path of a YAML file (examples "
                "in pipelines/, e.g. pipelines/semantic_vs_acoustic.yaml)"
            )
        user = _read_yaml(path)
    config = merge_sections(base, user)
    config = apply_overrides(config, overrides)
    validate_config(config)
    return config


def _normalize(config: dict) -> None:
    """Lists of strings given as one string become one-item lists; integral floats in integer
    keys become ints (JSON Schema counts ``1000.0`` as an integer)."""
    for sec, snode in SCHEMA["properties"].items():
        block = config.get(sec)
        if not isinstance(block, dict) or "properties" not in snode:
            continue
        for key, node in snode["properties"].items():
            v = block.get(key)
            items = node.get("items", {})
            if (
                node.get("type") == "array"
                and items.get("type") == "string"
                and isinstance(v, str)
            ):
                block[key] = [v]
            elif "integer" in _types(node) and isinstance(v, float) and v.is_integer():
                block[key] = int(v)


_TYPE_WORDS = {
    "integer": "an integer",
    "number": "a number",
    "string": "a string",
    "boolean": "true or false",
    "array": "a list",
    "object": "a mapping",
    "null": "null",
}


def _schema_problem(e) -> str:
    """One line per schema error: key path, value received, what is allowed."""
    import difflib

    where = ".".join(map(str, e.path)) or "<top>"
    if e.validator == "type":
        t = e.validator_value if isinstance(e.validator_value, list) else [e.validator_value]
        want = " or ".join(_TYPE_WORDS.get(x, x) for x in t)
        return f"{where}: got {e.instance!r} ({type(e.instance).__name__}); give {want}"
    if e.validator == "enum":
        return f"{where}: got {e.instance!r}; allowed: {e.validator_value}"
    if e.validator == "additionalProperties" and isinstance(e.instance, dict):
        allowed = sorted(e.schema.get("properties", {}))
        extra = sorted(set(e.instance) - set(allowed))
        lines = []
        for k in extra:
            near = difflib.get_close_matches(str(k), allowed, n=1)
            hint = f"; did you mean {near[0]!r}?" if near else ""
            lines.append(f"{where}: unknown key {k!r}{hint} (allowed: {allowed})")
        return "\n  - ".join(lines)
    return f"{where}: {e.message}"


def validate_config(config: dict) -> None:
    """Validate ``config``: the schema and the consistency checks, every problem at once.

    Parameters
    ----------
    config : dict
        A full configuration (defaults merged in, as :func:`load_config` does). Aliases and
        shorthands are normalised in place.

    Raises
    ------
    ConfigError
        A ``ValueError`` whose message lists every problem (key path, what is wrong, the fix).
    """
    import jsonschema

    from .checks import check_config

    _normalize(config)
    validator = jsonschema.Draft202012Validator(SCHEMA)
    errors = sorted(validator.iter_errors(config), key=lambda e: list(map(str, e.path)))
    problems = [_schema_problem(e) for e in errors]
    bad = {str(e.path[0]) if e.path else "<top>" for e in errors}
    problems += check_config(config, skip=bad)
    if problems:
        raise ConfigError(problems)


def config_hash(*parts: Any) -> str:
    """A stable short hash of JSON-serialisable parts (cache keys).

    Parameters
    ----------
    *parts : object
        JSON-serialisable values (mappings are hashed with sorted keys; other objects by
        their ``str``).

    Returns
    -------
    digest : str
        The first 16 hexadecimal digits of the SHA-256 of the parts.
    """
    blob = json.dumps(parts, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]
