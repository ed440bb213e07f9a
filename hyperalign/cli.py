"""Command line: ``hyperalign demo | run | transcribe | validate | info``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .utils import set_log_level

#: the console script ``hyperalign`` runs :func:`main`; the command functions are importable
#: (``hyperalign.cli.main``) but are not library API
__all__: list[str] = []


def _cmd_demo(args) -> int:
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
    overrides.update(_parse_set(args.set))
    if args.layerwise:  # its report is linked from the main report
        overrides["report.links"] = [
            {
                "title": "Layer-wise encoding and model-based brain-to-brain coupling",
                "href": "layerwise/report.html",
            }
        ]
    rc = _run_with_console("demo", config, args.out, overrides, args)
    if rc or not args.layerwise:
        return rc
    return _demo_layerwise(args, config, overrides)


def _demo_layerwise(args, config, overrides) -> int:
    """The layer-wise pipeline of the demo, into ``<out>/layerwise`` (after the main one).

    It simulates conversations with the main demo's seed, channels and rate, with a planted
    layer hierarchy and model-based coupling. With ``--quick`` it uses the main run's dyads and
    duration, so the text model's layers come from the main run's embedding cache.
    """
    from .pipeline import load_config

    main = load_config(config, overrides)
    out = Path(args.out) if args.out else Path(main.get("out") or "demo_output")
    ov: dict = {"features.embedding_cache": str(out / "cache" / "embeddings")}
    for k in ("random_state", "n_channels", "sfreq"):
        ov[f"data.{k}"] = main["data"][k]
    if args.quick:
        ov["data.n_dyads"] = min(4, int(main["data"]["n_dyads"]))
        ov["data.duration"] = main["data"]["duration"]
    if args.n_jobs is not None:
        ov["execution.n_jobs"] = args.n_jobs
    lw = _bundled_pipeline("layerwise_encoding.yaml")
    return _run_with_console("demo", lw, out / "layerwise", ov, args)


def _run_with_console(command, config, out, overrides, args) -> int:
    """Run a pipeline with a progress display and counted warnings (pipeline.console)."""
    from .pipeline import load_config, run_pipeline
    from .pipeline.console import RunConsole, run_summary
    from .pipeline.layerwise import (
        is_layerwise_config,
        layerwise_summary,
        load_layerwise_config,
        run_layerwise_pipeline,
    )

    mode = _console_mode(args)
    layerwise = is_layerwise_config(config)
    load, run = (load_layerwise_config, run_layerwise_pipeline) if layerwise else (
        load_config, run_pipeline)  # fmt: skip
    if out is None:
        out = load(config, overrides).get("out") or "hyperalign_output"
    with RunConsole(out, mode=mode) as con:
        result = run(config, out=out, overrides=overrides, verbose=_level(args))
    lines = run_summary(result, con, command=command)
    if layerwise:
        lines[1:1] = layerwise_summary(result)
    print("\n".join(lines))
    return 0


def _cmd_run(args) -> int:
    overrides = _parse_set(args.set)
    return _run_with_console("run", args.config, args.out, overrides, args)


def _console_mode(args) -> str:
    if args.verbose or args.debug:
        return "verbose"
    return "quiet" if getattr(args, "quiet", False) else "normal"


def _level(args) -> str | None:
    return "debug" if args.debug else ("info" if args.verbose else None)


class UsageError(ValueError):
    """A command-line argument that cannot be used as given."""


def _parse_set(items: list[str] | None) -> dict[str, str]:
    """``--set section.key=value`` options as a dict; every malformed one in one error."""
    out, bad = {}, []
    for kv in items or []:
        key, sep, value = kv.partition("=")
        if not sep or not key.strip():
            bad.append(kv)
            continue
        if key.strip() in out:
            raise UsageError(f"--set {key.strip()} given twice; give each key once")
        out[key.strip()] = value
    if bad:
        raise UsageError(
            f"--set {bad[0]!r}: expected section.key=value (e.g. --set stats.n_permutations=200"
            f"{'' if len(bad) == 1 else f'; also malformed: {bad[1:]}'})"
        )
    return out


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
    p.add_argument(
        "-v", "--verbose", action="store_true", help="log everything as it comes (INFO)"
    )
    p.add_argument("-q", "--quiet", action="store_true", help="print only the result and errors")
    p.add_argument(
        "--debug", action="store_true", help="log everything and show tracebacks of errors"
    )
    # -v / --debug also after the command (``hyperalign run cfg.yaml --debug``)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS)
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS)
    sub = p.add_subparsers(dest="command", required=True)

    d = sub.add_parser(
        "demo", parents=[common], help="simulate the default study and run the full analysis"
    )
    d.add_argument("--out", default="demo_output", help="output folder (default demo_output)")
    d.add_argument("--config", default=None, help="pipeline YAML (default: the bundled one)")
    d.add_argument("--quick", action="store_true", help="a smaller study (4 dyads x 2 min)")
    d.add_argument("--n-jobs", type=int, default=None, dest="n_jobs")
    d.add_argument("--set", action="append", help="override a config key: section.key=value")
    d.add_argument("--no-layerwise", action="store_false", dest="layerwise",
                   help="skip the layer-wise encoding pipeline (run after the main one into "
                   "<out>/layerwise)")  # fmt: skip
    d.set_defaults(func=_cmd_demo)

    r = sub.add_parser("run", parents=[common], help="run a pipeline YAML (see pipelines/)")
    r.add_argument("config", help="pipeline YAML file")
    r.add_argument("--out", default=None, help="output folder (default: from the config)")
    r.add_argument("--set", action="append", help="override a config key: section.key=value")
    r.set_defaults(func=_cmd_run)

    v = sub.add_parser(
        "validate", parents=[common], help="check a dataset folder against data_specs"
    )
    v.add_argument("path")
    v.set_defaults(func=_cmd_validate)

    t = sub.add_parser(
        "transcribe", parents=[common], help="ASR with word times, one microphone per speaker"
    )
    t.add_argument("audio", nargs="+", help="one audio file per participant")
    t.add_argument("--out", required=True, help="output whisperx-format JSON")
    t.add_argument("--model", default="tiny.en", help="Whisper model name or path")
    t.add_argument("--speakers", nargs="+", default=None, help="speaker id per audio file")
    t.add_argument("--backend", default="faster-whisper", choices=["faster-whisper", "whisperx"])
    t.set_defaults(func=_cmd_transcribe)

    i = sub.add_parser("info", parents=[common], help="versions and devices")
    i.set_defaults(func=_cmd_info)
    return p


def _one_line(err: BaseException) -> str:
    msg = str(err).strip() or type(err).__name__
    if isinstance(err, KeyError):  # str(KeyError) is the repr of the key
        msg = f"missing key {err.args[0]!r}" if err.args else "missing key"
    return msg


#: Errors a user can act on: a message, no traceback (``--debug`` shows it).
_USER_ERRORS = (ValueError, TypeError, KeyError, OSError, RuntimeError)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``hyperalign`` command.

    Exit status: 0 on success, 2 for an error the user can fix (the message names the problem,
    the value and the fix), 1 for an unexpected error, 130 when interrupted by Ctrl-C and 143
    by SIGTERM (the shell's 128 + signal number; the run can be resumed).
    """
    from .pipeline.interrupt import RunInterrupted

    args = build_parser().parse_args(argv)
    if args.debug:
        set_log_level("debug")
    elif args.verbose:
        set_log_level("info")
    try:
        return int(args.func(args) or 0)
    except RunInterrupted as err:
        print(str(err), file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except _USER_ERRORS as err:
        if args.debug:
            raise
        print(f"hyperalign {args.command}: error: {_one_line(err)}", file=sys.stderr)
        return 2
    except Exception as err:  # a bug: one line, the traceback with --debug
        if args.debug:
            raise
        print(
            f"hyperalign {args.command}: internal error: {type(err).__name__}: "
            f"{_one_line(err)} (rerun with --debug for the traceback, and please report it)",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
