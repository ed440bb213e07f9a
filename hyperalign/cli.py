"""Command line: ``hyperalign demo | run | transcribe | validate | info``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .utils import logger, set_log_level


def _cmd_demo(args) -> int:
    from .pipeline import run_pipeline

    config = args.config or _bundled_pipeline("semantic_vs_acoustic.yaml")
    overrides = {}
    if args.quick:
        overrides.update(
            {
                "data.n_dyads": 4,
                "data.duration": 120.0,
                "stats.n_permutations": 200,
            }
        )
    if args.n_jobs is not None:
        overrides["execution.n_jobs"] = args.n_jobs
    result = run_pipeline(config, out=args.out, overrides=overrides, verbose=args.verbose)
    print(f"hyperalign demo: outputs written to {Path(result.out).resolve()}")
    print(f"  report: {Path(result.report).resolve()}" if result.report else "")
    if getattr(result, "recovery", None) is not None:
        print(f"  {result.recovery.summary()}")
    return 0


def _cmd_run(args) -> int:
    from .pipeline import run_pipeline

    overrides = dict(kv.split("=", 1) for kv in args.set or [])
    result = run_pipeline(args.config, out=args.out, overrides=overrides, verbose=args.verbose)
    print(f"hyperalign run: outputs written to {Path(result.out).resolve()}")
    return 0


def _cmd_validate(args) -> int:
    from .io import validate_main

    return int(validate_main(args.path))


def _cmd_transcribe(args) -> int:
    from .transcribe import transcribe_main

    return int(
        transcribe_main(
            args.audio,
            args.out,
            model=args.model,
            speakers=args.speakers,
            backend=args.backend,
        )
    )


def _cmd_info(args) -> int:
    import importlib.metadata as md
    import platform

    from . import __version__

    print(f"hyperalign {__version__} on Python {platform.python_version()}")
    for pkg in (
        "numpy", "scipy", "pandas", "mne", "mne-connectivity", "hypyp", "statsmodels",
        "torch", "transformers", "sentence-transformers", "faster-whisper", "librosa",
        "praat-parselmouth", "xarray", "dask",
    ):  # fmt: skip
        try:
            print(f"  {pkg:22s} {md.version(pkg)}")
        except md.PackageNotFoundError:
            print(f"  {pkg:22s} (not installed)")
    try:
        import torch

        print(f"  CUDA available: {torch.cuda.is_available()}")
    except ImportError:
        pass
    return 0


def _bundled_pipeline(name: str) -> Path:
    here = Path(__file__).resolve().parent / "pipeline" / "configs" / name
    if here.exists():
        return here
    return Path(__file__).resolve().parents[1] / "pipelines" / name


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``hyperalign`` command."""
    p = argparse.ArgumentParser(prog="hyperalign", description=__doc__)
    p.add_argument("-v", "--verbose", action="store_true", help="log progress (INFO)")
    sub = p.add_subparsers(dest="command", required=True)

    d = sub.add_parser("demo", help="simulate the default study and run the full analysis")
    d.add_argument("--out", default="demo_output", help="output folder (default demo_output)")
    d.add_argument("--config", default=None, help="pipeline YAML (default: the bundled one)")
    d.add_argument("--quick", action="store_true", help="a smaller study (4 dyads x 2 min)")
    d.add_argument("--n-jobs", type=int, default=None, dest="n_jobs")
    d.set_defaults(func=_cmd_demo)

    r = sub.add_parser("run", help="run a pipeline YAML (see pipelines/)")
    r.add_argument("config", help="pipeline YAML file")
    r.add_argument("--out", default=None, help="output folder (default: from the config)")
    r.add_argument("--set", action="append", help="override a config key: section.key=value")
    r.set_defaults(func=_cmd_run)

    v = sub.add_parser("validate", help="check a dataset folder against data_specs")
    v.add_argument("path")
    v.set_defaults(func=_cmd_validate)

    t = sub.add_parser("transcribe", help="ASR with word times, one microphone per speaker")
    t.add_argument("audio", nargs="+", help="one audio file per participant")
    t.add_argument("--out", required=True, help="output whisperx-format JSON")
    t.add_argument("--model", default="tiny.en", help="Whisper model name or path")
    t.add_argument("--speakers", nargs="+", default=None, help="speaker id per audio file")
    t.add_argument("--backend", default="faster-whisper", choices=["faster-whisper", "whisperx"])
    t.set_defaults(func=_cmd_transcribe)

    i = sub.add_parser("info", help="versions and devices")
    i.set_defaults(func=_cmd_info)
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``hyperalign`` command."""
    args = build_parser().parse_args(argv)
    if args.verbose:
        set_log_level("info")
    try:
        return int(args.func(args) or 0)
    except (ValueError, FileNotFoundError, KeyError, TypeError) as err:
        logger.error("%s", err)
        print(f"hyperalign {args.command}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
