"""One lazy-loading scheme for every subpackage: ``lazy_loader`` stubs, as MNE and scikit-image.

Each package's ``__init__.py`` calls :func:`attach_stub`; its ``__init__.pyi`` lists the public
names (an ``__all__`` list, then one ``from .module import (a, b)`` block per module). Type
checkers and IDEs read the stub; at run time a name's module is imported on first access, so
``import hyperalign.<subpackage>`` imports none of its modules until a name is used.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
from pathlib import Path


def stub_all(filename: str) -> list[str]:
    """The ``__all__`` list of the ``.pyi`` stub next to ``filename`` (in its order)."""
    stub = Path(filename).with_suffix(".pyi")
    tree = ast.parse(stub.read_text(encoding="utf-8"), filename=str(stub))
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
        if any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets):
            return [str(v) for v in ast.literal_eval(node.value)]
    raise ValueError(f"{stub} has no __all__ list; add one at the top of the stub")


def stub_attributes(filename: str) -> dict[str, str]:
    """``{name: module}`` of the names the stub next to ``filename`` imports from a module."""
    stub = Path(filename).with_suffix(".pyi")
    tree = ast.parse(stub.read_text(encoding="utf-8"), filename=str(stub))
    return {
        alias.name: node.module
        for node in tree.body
        if isinstance(node, ast.ImportFrom) and node.module
        for alias in node.names
    }


def attach_stub(package_name: str, filename: str):
    """Attach the names of the package's ``__init__.pyi`` lazily.

    ``lazy_loader.attach_stub`` with two additions: ``__all__`` is the stub's own ``__all__``
    list (a stub may import a name that is importable but not public, such as a command-line
    entry point), and a submodule that the stub does not list is still found as an attribute
    (``hyperalign.align.turns`` after ``import hyperalign.align``), as when every package
    imported its modules eagerly.

    Parameters
    ----------
    package_name : str
        The package's ``__name__``.
    filename : str
        The package's ``__file__`` (the stub is the ``.pyi`` file beside it).

    Returns
    -------
    __getattr__ : callable
        The package's module-level ``__getattr__``.
    __dir__ : callable
        The package's module-level ``__dir__``.
    __all__ : list of str
        The public names, as listed in the stub.
    """
    import lazy_loader

    lazy_getattr, _, attached = lazy_loader.attach_stub(package_name, filename)
    public = stub_all(filename)
    names = sorted(set(attached) | set(public))
    attached = frozenset(attached)

    def __getattr__(name: str):
        if name in attached:
            return lazy_getattr(name)
        if not name.startswith("__"):
            full = f"{package_name}.{name}"
            try:
                found = importlib.util.find_spec(full) is not None
            except (ImportError, ValueError):
                found = False
            if found:
                return importlib.import_module(full)
        raise AttributeError(f"module {package_name!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return list(names)

    return __getattr__, __dir__, public
