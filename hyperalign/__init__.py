"""hyperalign: hyperscanning of conversation.

Time-align two brains with the transcribed conversation, turn utterances and words into
semantic and acoustic predictors, measure inter-brain synchrony and test whether semantic
alignment explains it beyond acoustics.

The top-level namespace is kept small and light: ``import hyperalign`` does not import
torch, transformers or statsmodels. Subpackages (``hyperalign.io``, ``.align``,
``.transcribe``, ``.features``, ``.coupling``, ``.stats``, ``.simulation``, ``.datasets``,
``.report``, ``.pipeline``) and the names below load on first use (``lazy_loader`` with the
stub ``__init__.pyi``, as in every subpackage).
"""

from .utils._lazy import attach_stub as _attach_stub
from .utils._lazy import stub_attributes as _stub_attributes

__version__ = "0.1.0.dev0"

__getattr__, __dir__, __all__ = _attach_stub(__name__, __file__)

#: the stage functions re-exported at the top level: name -> subpackage (they are documented
#: in their stage; ``Dyad``, ``Transcript``, ... are defined at this level)
_LAZY = {
    name: module
    for name, module in _stub_attributes(__file__).items()
    if module not in ("dyad", "transcript", "utils")
}
