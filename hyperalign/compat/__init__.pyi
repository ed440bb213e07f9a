__all__ = [
    "hypyp",
]

from . import hypyp
