__all__ = [
    "SCHEMA",
    "ConfigError",
    "PipelineResult",
    "RunInterrupted",
    "RunLockedError",
    "StepCache",
    "StepOutput",
    "apply_overrides",
    "auto_rois",
    "config_hash",
    "load_config",
    "map_items",
    "merge_sections",
    "read_manifest",
    "run_pipeline",
    "validate_config",
    "verify_outputs",
]

from .cache import StepCache, StepOutput
from .config import (
    SCHEMA,
    ConfigError,
    apply_overrides,
    config_hash,
    load_config,
    merge_sections,
    validate_config,
)
from .executors import map_items
from .interrupt import RunInterrupted
from .outputs import RunLockedError, read_manifest, verify_outputs
from .run import PipelineResult, auto_rois, run_pipeline
