"""One lazy-loading scheme, light imports: every subpackage, every public name.

Every package that re-exports names attaches them with ``lazy_loader`` from a stub
``__init__.pyi`` (``__all__`` first, then one ``from .module import (...)`` block per module),
as MNE and scikit-image do. Importing hyperalign or any of its subpackages, and using any
public name, imports none of the heavy libraries: those are imported inside the functions
that need them.
"""

from __future__ import annotations

import ast
import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

import hyperalign
from hyperalign.utils._lazy import stub_all, stub_attributes

ROOT = Path(hyperalign.__file__).resolve().parent

#: imported only inside the functions that need them (docs/design.md)
HEAVY = (
    "torch",
    "transformers",
    "sentence_transformers",
    "statsmodels",
    "hypyp",
    "mne_connectivity",
    "himalaya",
    "librosa",
    "faster_whisper",
    "parselmouth",
)


def _packages() -> list[str]:
    out = []
    for init in sorted(ROOT.rglob("__init__.py")):
        rel = init.parent.relative_to(ROOT.parent)
        out.append(".".join(rel.parts))
    return out


def _stubbed() -> list[str]:
    return [p for p in _packages() if _init(p).with_suffix(".pyi").is_file()]


def _init(package: str) -> Path:
    return ROOT.parent.joinpath(*package.split("."), "__init__.py")


def test_every_package_is_listed():
    pkgs = _packages()
    assert "hyperalign" in pkgs and "hyperalign.io.transcripts" in pkgs
    # every package that re-exports names from its modules does it through a stub
    for pkg in ("hyperalign", "hyperalign.coupling", "hyperalign.features", "hyperalign.utils"):
        assert pkg in _stubbed(), pkg


@pytest.mark.parametrize("package", _packages())
def test_one_lazy_loading_scheme(package):
    """A package either attaches its stub or imports none of its own modules eagerly."""
    init = _init(package)
    tree = ast.parse(init.read_text(encoding="utf-8"))
    own = [
        n.module
        for n in tree.body
        if isinstance(n, ast.ImportFrom)
        and n.level == 1
        and (n.module or "").split(".")[-1] != "_lazy"  # the stub attacher itself
    ]
    assert not own, f"{package} imports {own} eagerly; list them in {init.name}i instead"
    hand_written = [
        n.name for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "__getattr__"
    ]
    assert not hand_written, f"{package} defines __getattr__; use the lazy_loader stub"
    if init.with_suffix(".pyi").is_file():
        assert "_attach_stub(__name__, __file__)" in init.read_text(encoding="utf-8")


@pytest.mark.parametrize("package", _stubbed())
def test_stub_matches_package(package):
    """``__all__`` is the stub's, every name in it is attached, and every attached name
    resolves to the object of the module the stub names."""
    init = _init(package)
    mod = importlib.import_module(package)
    public = stub_all(str(init))
    assert len(set(public)) == len(public), f"duplicates in {package}.__all__"
    assert list(mod.__all__) == public
    attached = stub_attributes(str(init))
    tree = ast.parse(init.with_suffix(".pyi").read_text(encoding="utf-8"))
    submodules = {
        a.name
        for n in tree.body
        if isinstance(n, ast.ImportFrom) and not n.module
        for a in n.names
    }
    defined = set(vars(mod))  # e.g. __version__, set in __init__.py itself
    missing = [n for n in public if n not in attached and n not in submodules | defined]
    assert not missing, f"{package}.__all__ lists names its stub does not import: {missing}"
    for name, module in attached.items():
        source = importlib.import_module(f"{package}.{module}")
        assert getattr(mod, name) is getattr(source, name), f"{package}.{name}"
    for name in submodules:
        assert getattr(mod, name) is importlib.import_module(f"{package}.{name}")
    assert set(public) <= set(dir(mod))


def test_unknown_name_error_names_the_package():
    import hyperalign.features as feats

    with pytest.raises(AttributeError, match="'hyperalign.features' has no attribute 'nope'"):
        feats.nope  # noqa: B018


def test_unlisted_submodule_is_found_as_attribute():
    # as when packages imported their modules eagerly: ``ha.align.turns`` after ``import ha``
    import hyperalign.align as align

    assert align.turns is importlib.import_module("hyperalign.align.turns")


def test_imports_are_light():
    """Importing every subpackage, then using every public name, imports nothing heavy."""
    code = f"""
import importlib, json, sys
heavy = {HEAVY!r}
packages = {_packages()!r}
out = {{}}
for p in packages:
    importlib.import_module(p)
    out[p] = [m for m in heavy if m in sys.modules]
for p in packages:
    mod = importlib.import_module(p)
    for n in getattr(mod, "__all__", []):
        getattr(mod, n)
out["after every public name"] = [m for m in heavy if m in sys.modules]
print(json.dumps(out))
"""
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout.strip().splitlines()[-1])
    bad = {k: v for k, v in out.items() if v}
    assert not bad, f"heavy modules imported: {bad}"


def test_top_level_import_loads_no_subpackage():
    code = (
        "import sys, hyperalign; "
        "print(sorted(m for m in sys.modules if m.startswith('hyperalign.')))"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    loaded = ast.literal_eval(res.stdout.strip())
    assert set(loaded) <= {"hyperalign.utils", "hyperalign.utils._lazy"}, loaded


def test_cli_entry_points_are_importable_but_not_public():
    import hyperalign.cli
    import hyperalign.io
    import hyperalign.io.validate
    import hyperalign.transcribe

    entry = {
        hyperalign.cli: ("main", "build_parser"),
        hyperalign.io: ("validate_main",),
        hyperalign.io.validate: ("validate_main",),
        hyperalign.transcribe: ("transcribe_main",),
    }
    for mod, names in entry.items():
        for name in names:
            assert callable(getattr(mod, name)), (mod.__name__, name)
            assert name not in mod.__all__, (mod.__name__, name)
    assert hyperalign.cli.__all__ == []


def test_stub_without_all_is_an_error(tmp_path):
    init = tmp_path / "__init__.py"
    init.write_text("")
    init.with_suffix(".pyi").write_text("from .mod import a\n")
    with pytest.raises(ValueError, match=r"has no __all__ list; add one at the top of the stub"):
        stub_all(str(init))
    assert stub_attributes(str(init)) == {"a": "mod"}
