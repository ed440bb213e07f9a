"""netCDF round trip shared by the labelled result containers (``Coupling``, ``EncodingResult``).

Attributes that netCDF cannot store (lists, dicts, bools, None) are written as JSON strings with
a ``json:`` prefix and decoded on read; a ``hyperalign_format`` attribute names the container
and its version, and the file is written atomically with the h5netcdf engine.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from ._logging import logger
from ._validation import atomic_path

_JSON_PREFIX = "json:"
_FORMAT_ATTR = "hyperalign_format"


def _json_default(o):
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)


def _encode_attr(v):
    if isinstance(v, str | int | float | np.integer | np.floating) and not isinstance(v, bool):
        return v
    return _JSON_PREFIX + json.dumps(v, default=_json_default)


def _decode_attr(v):
    if isinstance(v, str) and v.startswith(_JSON_PREFIX):
        return json.loads(v[len(_JSON_PREFIX) :])
    if isinstance(v, np.generic):
        return v.item()
    return v


def _write_netcdf(obj, path: str | os.PathLike, *, fmt: str, what: str, overwrite: bool) -> Path:
    """Write an xarray ``DataArray`` or ``Dataset`` with encoded attrs, atomically.

    Parameters
    ----------
    obj : xarray.DataArray | xarray.Dataset
        What to write (copied; not modified).
    path : path-like
        Output file (``.nc``).
    fmt : str
        The ``hyperalign_format`` attribute (container name and version).
    what : str
        The container's name, for messages.
    overwrite : bool
        Replace an existing file.

    Returns
    -------
    path : Path
        The file written.
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; pass overwrite=True to replace it")
    obj = obj.copy()
    obj.attrs = {k: _encode_attr(v) for k, v in obj.attrs.items()}
    obj.attrs[_FORMAT_ATTR] = fmt
    tmp, final = atomic_path(path)
    try:
        obj.to_netcdf(tmp, engine="h5netcdf")
        os.replace(tmp, final)
    except BaseException:
        if tmp.exists():
            tmp.unlink()
        raise
    logger.info("%s written to %s", what, final)
    return final


def _read_netcdf(path: str | os.PathLike, *, fmt: str, what: str, dataset: bool):
    """Read a file written by :func:`_write_netcdf`, check its format and decode its attrs.

    Parameters
    ----------
    path : path-like
        A ``.nc`` file.
    fmt : str
        The ``hyperalign_format`` attribute the file must carry.
    what : str
        The container's name, for messages.
    dataset : bool
        Open an ``xarray.Dataset`` (else a ``DataArray``).

    Returns
    -------
    obj : xarray.DataArray | xarray.Dataset
        Loaded into memory, the file closed.
    """
    import xarray as xr

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no {what} file at {path}")
    opener = xr.open_dataset if dataset else xr.open_dataarray
    with opener(path, engine="h5netcdf") as obj:
        obj = obj.load()
    found = obj.attrs.pop(_FORMAT_ATTR, None)
    if found != fmt:
        raise ValueError(f"{path} is not a hyperalign {what} file (format={found!r})")
    obj.attrs = {k: _decode_attr(v) for k, v in obj.attrs.items()}
    return obj
