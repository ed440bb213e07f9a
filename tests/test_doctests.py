"""Run the ``>>>`` examples of every hyperalign module that has them (offline, deterministic).

Modules are found by scanning the source for ``>>>``, so a new example is tested without
registering it here. Examples that load a language model are marked ``models`` and ``slow``.
"""

from __future__ import annotations

import doctest
import importlib
import importlib.util
import os
import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "hyperalign"
FLAGS = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS
# Examples here load the shipped MiniLM model (seconds on an idle machine, more when loaded).
_MODEL_HINTS = ("compute_predictors(", "compute_layer_embeddings(", "embed_utterances(")
#: Modules whose examples run a whole pipeline (MiniLM included; over 10 s).
_PIPELINE_MODULES = ("hyperalign.pipeline.run",)
#: Warnings an example shows on purpose, by module: (message regex, category). Each is the
#: behaviour of a tiny study and is tested where it is raised.
_EXPECTED_WARNINGS = {
    # run_pipeline's six-dyad demo: singular random-intercept fits in some cells (tested in
    # tests/stats/test_analysis.py and tests/pipeline/test_run.py)
    "hyperalign.pipeline.run": [(r"singular fit in \d+ of \d+ cell", UserWarning)],
}


def _modules_with_examples() -> list[str]:
    out = []
    for path in sorted(ROOT.rglob("*.py")):
        if ">>>" not in path.read_text(encoding="utf-8"):
            continue
        rel = path.relative_to(ROOT.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out.append(".".join(parts))
    return out


def _param(modname: str):
    src = importlib.util.find_spec(modname).origin
    text = Path(src).read_text(encoding="utf-8")
    ex = [ln for ln in text.splitlines() if ln.lstrip().startswith(">>>")]
    if modname in _PIPELINE_MODULES or any(h in ln for ln in ex for h in _MODEL_HINTS):
        return pytest.param(modname, marks=[pytest.mark.models, pytest.mark.slow])
    return modname


MODULES = _modules_with_examples()


@pytest.mark.parametrize("modname", [_param(m) for m in MODULES])
def test_doctests(modname, monkeypatch, tmp_path):
    """Every example of the module runs and prints what its docstring says."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("HYPERALIGN_CACHE", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)  # examples that write files write here
    mod = importlib.import_module(modname)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    report: list[str] = []
    with warnings.catch_warnings():
        for message, category in _EXPECTED_WARNINGS.get(modname, []):
            warnings.filterwarnings("ignore", message, category)
        for test in finder.find(mod, modname):
            runner.run(test, out=report.append)
    res = runner.summarize(verbose=False)
    assert res.failed == 0, f"{res.failed} doctest failure(s) in {modname}:\n" + "".join(report)


def test_examples_found():
    """The scan finds the main entry points' examples (a broken scan must not pass)."""
    for m in (
        "hyperalign.simulation._simulate",
        "hyperalign.datasets",
        "hyperalign.encoding.ridge",
        "hyperalign.compat.hypyp",
    ):
        assert m in MODULES
    assert os.sep not in "".join(MODULES)
