"""Array backends and compute-device selection.

Heavy libraries (torch) are imported inside the functions that need them, so importing
this package stays light.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from ..utils import logger

__all__ = ["get_device", "torch_threads"]

_ALLOWED = ("cpu", "cuda", "mps")


def _mps_available(torch) -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def get_device(device: str | None = None) -> str:
    """Return the torch device to compute on.

    Parameters
    ----------
    device : str | None
        ``None`` or ``'auto'`` picks ``'cuda'`` when a CUDA GPU is visible to torch, else
        ``'mps'`` on Apple silicon, else ``'cpu'``. An explicit ``'cpu'``, ``'cuda'``,
        ``'cuda:1'`` or ``'mps'`` is checked and returned.

    Returns
    -------
    device : str
        A device string that ``torch.device`` accepts.

    Raises
    ------
    ValueError
        If ``device`` is not a known device name.
    RuntimeError
        If a GPU was asked for but torch sees none.
    """
    import torch

    if device is None or device == "auto":
        if torch.cuda.is_available():
            chosen = "cuda"
        elif _mps_available(torch):
            chosen = "mps"
        else:
            chosen = "cpu"
        logger.debug("get_device: using %s", chosen)
        return chosen
    if not isinstance(device, str) or device.split(":")[0] not in _ALLOWED:
        raise ValueError(
            f"device must be None, 'auto' or one of {list(_ALLOWED)} (optionally 'cuda:N'); "
            f"got {device!r}"
        )
    kind = device.split(":")[0]
    if kind == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(
            f"device={device!r} was requested but torch sees no CUDA GPU "
            f"(torch {torch.__version__}); pass device='cpu' or device=None"
        )
    if kind == "mps" and not _mps_available(torch):
        raise RuntimeError(f"device={device!r} was requested but MPS is not available")
    return device


@contextlib.contextmanager
def torch_threads(n_threads: int | None) -> Iterator[None]:
    """Run a block with ``torch.set_num_threads(n_threads)``, restoring the old value after.

    ``None`` leaves torch's setting alone. On a machine shared by several processes, one
    thread per process is often several times faster than oversubscribed cores.

    Parameters
    ----------
    n_threads : int | None
        Number of torch intra-op threads inside the block; ``None`` changes nothing.

    Yields
    ------
    None
        Control returns to the ``with`` block; the old setting is restored on exit.
    """
    if n_threads is None:
        yield
        return
    if int(n_threads) < 1:
        raise ValueError(f"n_threads must be None or an int >= 1; got {n_threads!r}")
    import torch

    old = torch.get_num_threads()
    torch.set_num_threads(int(n_threads))
    try:
        yield
    finally:
        torch.set_num_threads(old)
