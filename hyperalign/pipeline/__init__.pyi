__all__ = [
    "LAYERWISE_SCHEMA",
    "SCHEMA",
    "ConfigError",
    "LayerwiseResult",
    "PipelineResult",
    "RunInterrupted",
    "RunLockedError",
    "StepCache",
    "StepOutput",
    "apply_overrides",
    "auto_rois",
    "config_hash",
    "load_config",
    "load_layerwise_config",
    "map_items",
    "merge_sections",
    "read_manifest",
    "run_layerwise_pipeline",
    "run_pipeline",
    "validate_config",
    "validate_layerwise_config",
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
from .layerwise import LayerwiseResult, run_layerwise_pipeline
from .layerwise_config import (
    LAYERWISE_SCHEMA,
    load_layerwise_config,
    validate_layerwise_config,
)
from .outputs import RunLockedError, read_manifest, verify_outputs
from .run import PipelineResult, auto_rois, run_pipeline
