"""The test suite's own conventions: every folder a package, helpers not imported from other
test modules, no wall-clock assertions (timings live in ``benchmarks/``)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
_CLOCKS = {"perf_counter", "time", "monotonic", "process_time", "perf_counter_ns"}


def _modules():
    return sorted(p for p in TESTS.rglob("*.py") if "__pycache__" not in p.parts)


def test_every_test_folder_is_a_package():
    folders = {p.parent for p in _modules()}
    missing = sorted(
        str(f.relative_to(TESTS)) for f in folders if not (f / "__init__.py").exists()
    )
    assert not missing, f"test folders without __init__.py: {missing}"


def _imports(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            yield node.module
        elif isinstance(node, ast.Import):
            yield from (a.name for a in node.names)


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(TESTS)))
def test_no_imports_from_test_modules_and_no_wall_clock_asserts(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    bad = [m for m in _imports(tree) if m.split(".")[-1].startswith("test_")]
    assert not bad, f"{path.name} imports from test modules {bad}; put shared code in conftest"
    for node in ast.walk(tree):
        if not isinstance(node, ast.Assert):
            continue
        calls = [c for c in ast.walk(node.test) if isinstance(c, ast.Call)]
        names = {getattr(c.func, "attr", getattr(c.func, "id", None)) for c in calls}
        assert not names & _CLOCKS, (
            f"{path.name}:{node.lineno} asserts a wall time; measure it in benchmarks/ instead"
        )
