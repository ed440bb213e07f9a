"""The module graph of hyperalign: no import cycles and no upward imports across the layers.

Every module under ``hyperalign/`` is parsed with :mod:`ast`; every ``import`` and
``from ... import`` counts, at module level or inside functions alike (a function-level import
hides a cycle, it does not remove it). Relative imports are resolved; ``from pkg import name``
counts as an import of ``pkg.name`` when that is a module.

The layers (docs/design.md, /work/shared/ARCHITECTURE.md), lowest first; a module may import
from its own layer or below:

=====  ==========================================  ==========================================
layer  packages / modules                          why there
=====  ==========================================  ==========================================
0      ``utils``, ``backend``                      helpers; the numpy / torch array backend
                                                   depends on nothing of hyperalign's but utils
1      ``dyad``, ``transcript``                    the containers
2      ``io``, ``simulation``                      make containers from files / from models
3      ``align``, ``transcribe``                   clocks, turns, epochs; ASR
4      ``features``, ``coupling``, ``encoding``    predictors, synchrony, encoding models
5      ``stats``, ``compat``                       statistics; ``compat`` (HyPyP's signatures
                                                   on the synchrony engine) sits above the
                                                   engines it wraps
6      ``report``, ``datasets``                    tables, figures, HTML; ``load_demo`` may
                                                   build the demo with any stage below
7      ``pipeline``, ``cli``                       orchestration
=====  ==========================================  ==========================================

``hyperalign/__init__.py`` (the public API) re-exports from every layer and is not checked
against the layers; it is part of the cycle check.

Packages attach their names lazily (``lazy_loader``) from the stub ``__init__.pyi`` beside
their ``__init__.py``: importing the package runs only its ``__init__.py``, and a name from
the stub imports its module on first use. So ``from hyperalign.coupling import compute_sync``
is an import of the module the stub names for ``compute_sync`` (``hyperalign.coupling.metrics``),
and that module keeps its layer and cycle checks.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "hyperalign"

LAYERS = {
    "utils": 0,
    "backend": 0,
    "dyad": 1,
    "transcript": 1,
    "io": 2,
    "simulation": 2,
    "align": 3,
    "transcribe": 3,
    "features": 4,
    "coupling": 4,
    "encoding": 4,
    "stats": 5,
    "compat": 5,
    "report": 6,
    "datasets": 6,
    "pipeline": 7,
    "cli": 7,
}

#: import cycles outside the statistics / synchrony area, known when this test was written;
#: each names its owner, who clears it (then remove the entry: the test fails on a stale one)
KNOWN_CYCLES: dict[frozenset, str] = {}

#: upward imports known when this test was written: (importer, imported) -> owner
KNOWN_UPWARD: dict[tuple[str, str], str] = {}


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def _resolve(importer: str, is_pkg: bool, level: int, module: str | None) -> str:
    if level == 0:
        return module or ""
    base = importer.split(".")
    if not is_pkg:
        base = base[:-1]
    if level > 1:
        base = base[: len(base) - (level - 1)]
    return ".".join(base + ([module] if module else []))


def _stub_names(mods: dict[str, Path]) -> dict[str, dict[str, str]]:
    """``{package: {name: module}}`` for the names a package attaches from its stub."""
    out: dict[str, dict[str, str]] = {}
    for name, path in mods.items():
        stub = path.with_suffix(".pyi")
        if path.name != "__init__.py" or not stub.is_file():
            continue
        names = out[name] = {}
        for node in ast.parse(stub.read_text(encoding="utf-8"), filename=str(stub)).body:
            if isinstance(node, ast.ImportFrom):
                base = _resolve(name, True, node.level, node.module)
                for a in node.names:
                    names[a.name] = f"{base}.{a.name}" if f"{base}.{a.name}" in mods else base
    return out


def _edges(mods: dict[str, Path]) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {m: set() for m in mods}
    stubs = _stub_names(mods)
    for name, path in mods.items():
        is_pkg = path.name == "__init__.py"
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(name, is_pkg, node.level, node.module)
                subs = [f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in mods]
                # a name the package attaches lazily imports the module its stub names
                lazy = [stubs[base][a.name] for a in node.names if a.name in stubs.get(base, {})]
                # ``from pkg import submodule`` imports the submodule (pkg itself is already
                # being initialised as its parent); any other name is an attribute of base
                targets = subs + lazy + ([base] if len(subs) + len(lazy) < len(node.names) else [])
            for t in targets:
                if not t.startswith("hyperalign"):
                    continue
                # the deepest hyperalign module named by t
                while t and t not in mods:
                    t = t.rpartition(".")[0]
                if t and t != name:
                    graph[name].add(t)
    return graph


def _layer(mod: str) -> int | None:
    parts = mod.split(".")
    if len(parts) < 2:
        return None  # hyperalign/__init__.py
    return LAYERS.get(parts[1])


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on, stack, out = set(), [], []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on.add(root)
        while work:
            v, it = work[-1]
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(graph[w]))))
                    break
                if w in on:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on.discard(w)
                        comp.append(w)
                        if w == v:
                            break
                    if len(comp) > 1:
                        out.append(sorted(comp))
    return out


@pytest.fixture(scope="module")
def graph():
    return _edges(_modules())


def test_every_subpackage_has_a_layer():
    tops = {_module_name(p).split(".")[1] for p in ROOT.rglob("*.py") if p.parent != ROOT}
    tops |= {p.stem for p in ROOT.glob("*.py") if p.stem != "__init__"}
    missing = sorted(t for t in tops if t not in LAYERS)
    assert not missing, f"place {missing} in LAYERS (and in the table of this module's docstring)"


def test_graph_sees_function_level_imports(graph):
    # dyad_sync imports results inside a function; the graph must see it
    assert "hyperalign.coupling.results" in graph["hyperalign.coupling.dyad_sync"]


def test_graph_resolves_lazily_attached_names(graph):
    # hyperalign.coupling attaches compute_sync from metrics (coupling/__init__.pyi); a module
    # importing it from the package imports metrics, not the package's other modules
    assert (ROOT / "coupling" / "__init__.pyi").is_file()
    stubs = _stub_names(_modules())
    assert stubs["hyperalign.coupling"]["compute_sync"] == "hyperalign.coupling.metrics"
    assert stubs["hyperalign.compat"]["hypyp"] == "hyperalign.compat.hypyp"
    # pipeline._dyad_steps imports compute_dyad_sync from hyperalign.coupling inside a function
    assert "hyperalign.coupling.dyad_sync" in graph["hyperalign.pipeline._dyad_steps"]


def test_no_import_cycles(graph):
    cycles = _cycles(graph)
    unknown = [c for c in cycles if frozenset(c) not in KNOWN_CYCLES]
    assert not unknown, "import cycles (function-level imports included):\n" + "\n".join(
        " <-> ".join(c) for c in unknown
    )
    stale = [sorted(k) for k in KNOWN_CYCLES if list(sorted(k)) not in cycles]
    assert not stale, f"cycles cleared, remove them from KNOWN_CYCLES: {stale}"


def test_no_upward_imports(graph):
    bad = []
    for src, targets in graph.items():
        ls = _layer(src)
        if ls is None:
            continue
        for dst in targets:
            ld = _layer(dst)
            if ld is not None and ld > ls and (src, dst) not in KNOWN_UPWARD:
                bad.append(f"{src} (layer {ls}) imports {dst} (layer {ld})")
    assert not bad, "upward imports:\n" + "\n".join(sorted(bad))


def test_stats_never_imports_report(graph):
    bad = [
        (s, d)
        for s, ds in graph.items()
        for d in ds
        if s.startswith("hyperalign.stats") and d.startswith("hyperalign.report")
    ]
    assert not bad
