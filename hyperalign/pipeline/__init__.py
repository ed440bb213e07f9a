"""Pipelines: schema-validated YAML configs, per-dyad step cache, joblib or Dask executors."""

from .cache import StepCache
from .config import SCHEMA, apply_overrides, config_hash, load_config, validate_config
from .executors import map_items
from .run import PipelineResult, auto_rois, run_pipeline

__all__ = [
    "SCHEMA",
    "PipelineResult",
    "StepCache",
    "apply_overrides",
    "auto_rois",
    "config_hash",
    "load_config",
    "map_items",
    "run_pipeline",
    "validate_config",
]
