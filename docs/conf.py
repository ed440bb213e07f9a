"""Sphinx configuration for the hyperalign documentation (pydata theme, numpydoc, gallery)."""

from __future__ import annotations

import importlib
import os
import shutil
import sys
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

import hyperalign  # noqa: E402

project = "hyperalign"
author = "hyperalign developers"
copyright = f"{date.today().year}, {author}"
release = hyperalign.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_nb",
]
source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
exclude_patterns = [
    "_build",
    "examples",
    "auto_examples/*.ipynb",
    "auto_examples/*.py",
    "**.codeobj.json",
]
templates_path = ["_templates"]
root_doc = "index"

# -- API reference: one page per public subpackage, generated from its ``__all__`` ---------
API_PACKAGES = {
    "hyperalign": "Containers and top level",
    "hyperalign.io": "Reading and writing data",
    "hyperalign.align": "Clocks, turns and epochs",
    "hyperalign.transcribe": "Transcription",
    "hyperalign.features": "Predictors (semantic, language-model layers, acoustic)",
    "hyperalign.coupling": "Inter-brain synchrony",
    "hyperalign.encoding": "Encoding models",
    "hyperalign.compat.hypyp": "HyPyP drop-in",
    "hyperalign.stats": "Statistics",
    "hyperalign.simulation": "Simulation",
    "hyperalign.datasets": "Datasets",
    "hyperalign.report": "Reports",
    "hyperalign.pipeline": "Pipelines",
    "hyperalign.backend": "Array backends",
    "hyperalign.utils": "Utilities",
}


def _public_names(mod) -> list[str]:
    names = list(getattr(mod, "__all__", []))
    # the top level re-exports stage functions lazily: they are documented in their stage
    names = [n for n in names if n not in getattr(mod, "_LAZY", {})]
    out = []
    for n in names:
        if n.startswith("_") or n.isupper():
            continue
        obj = getattr(mod, n, None)
        if obj is None or not (callable(obj) or isinstance(obj, type)):
            continue
        out.append(n)
    return sorted(set(out))


def _write_api_pages() -> list[str]:
    api = HERE / "api"
    api.mkdir(exist_ok=True)
    # autosummary never deletes a stub: remove them so a name that left an API page (or moved
    # to another) cannot linger as a duplicate description
    shutil.rmtree(api / "generated", ignore_errors=True)
    written = []
    for modname, title in API_PACKAGES.items():
        try:
            mod = importlib.import_module(modname)
        except ImportError:
            continue
        names = _public_names(mod)
        if not names:
            continue
        slug = modname.replace(".", "_")
        lines = [
            title,
            "=" * len(title),
            "",
            f".. currentmodule:: {modname}",
            "",
            f"``{modname}``",
            "",
            ".. autosummary::",
            "   :toctree: generated/",
            "",
            *[f"   {n}" for n in names],
            "",
        ]
        text = "\n".join(lines)
        path = api / f"{slug}.rst"
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
        written.append(slug)
    index = ["API reference", "=============", "", ".. toctree::", "   :maxdepth: 1", ""]
    index += [f"   {s}" for s in written]
    (api / "index.rst").write_text("\n".join(index) + "\n")
    return written


_write_api_pages()


def _copy_notebooks() -> None:
    """Copy ``notebooks/*.ipynb`` into the source tree (rendered, not executed)."""
    dest = HERE / "notebooks"
    dest.mkdir(exist_ok=True)
    for nb in sorted((ROOT / "notebooks").glob("*.ipynb")):
        target = dest / nb.name
        if not target.exists() or target.read_bytes() != nb.read_bytes():
            shutil.copyfile(nb, target)


_copy_notebooks()

autosummary_generate = True
autodoc_default_options = {"inherited-members": False}
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False

intersphinx_mapping = {}  # offline build: no inventories are fetched

# -- Gallery: tutorials that run on the embedded, simulated data ------------------------------
sphinx_gallery_conf = {
    "examples_dirs": ["examples"],
    "gallery_dirs": ["auto_examples"],
    "filename_pattern": r"/plot_",
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
    "reset_modules": ("matplotlib",),
    "show_memory": False,
    "plot_gallery": "True",
}

# -- Notebooks: rendered, not executed here (the test suite executes them) ---------------------
nb_execution_mode = "off"
myst_enable_extensions = ["colon_fence"]
suppress_warnings = ["myst.header", "mystnb.unknown_mime_type", "config.cache"]

# -- HTML -----------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = "hyperalign"
html_theme_options = {
    "navbar_end": ["navbar-icon-links"],
    "show_prev_next": False,
    "footer_start": ["copyright"],
}
html_static_path = []
html_show_sourcelink = False
