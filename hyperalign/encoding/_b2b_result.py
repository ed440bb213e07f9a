"""``B2BCoupling``: lag-by-lag maps of model-based brain-to-brain coupling (xarray-backed)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ..utils import atomic_path, logger
from ..utils._netcdf import _decode_attr, _encode_attr  # JSON attrs, as EncodingResult

__all__ = ["B2BCoupling", "read_b2b"]

_FORMAT = "hyperalign.B2BCoupling/1"
_DIMS = ("kind", "direction", "roi_speaker", "roi_listener", "speaker_lag", "listener_lag")


class B2BCoupling:
    """Lag-by-lag coupling maps of one dyad (or a group mean).

    Parameters
    ----------
    data : xarray.Dataset
        ``r`` over the dims ``kind`` (``raw``, ``residual``, ``direct``), ``direction``
        (``s2l``, ``l2s``, ``sym``), ``roi_speaker``, ``roi_listener``, ``speaker_lag``,
        ``listener_lag`` (seconds); with nulls also ``p`` and ``p_fwer`` (max-statistic over
        ROI pairs and both lag axes, per kind and direction) and ``threshold`` (the
        ``1 - alpha`` quantile of the null maximum). ``attrs`` hold every parameter and
        ``n_words``.

    Attributes
    ----------
    dataset : xarray.Dataset
        The underlying dataset.
    """

    def __init__(self, data: xr.Dataset):
        if not isinstance(data, xr.Dataset) or "r" not in data.data_vars:
            raise ValueError("a B2BCoupling needs an xarray.Dataset with an 'r' variable")
        self._ds = data

    @property
    def dataset(self) -> xr.Dataset:
        """The underlying :class:`xarray.Dataset`."""
        return self._ds

    @property
    def attrs(self) -> dict:
        """Parameters: dyad_id, n_words, lags, window, folds, null, ..."""
        return self._ds.attrs

    def get_scores(self, metric: str = "r") -> xr.DataArray:
        """One variable (``'r'``, ``'p'``, ``'p_fwer'``)."""
        if metric not in self._ds.data_vars:
            raise ValueError(f"metric must be one of {list(self._ds.data_vars)}; got {metric!r}")
        return self._ds[metric]

    def sel(self, **indexers) -> B2BCoupling:
        """Select by coordinate labels (``xarray.Dataset.sel``)."""
        return B2BCoupling(self._ds.sel(**indexers))

    def peak(
        self, kind: str = "raw", direction: str = "sym", *, roi_speaker=None, roi_listener=None
    ) -> dict:
        """Speaker lag, listener lag and r of the map's maximum (ROI pairs averaged first).

        Parameters
        ----------
        kind, direction : str
            Which map.
        roi_speaker, roi_listener : str | list of str | None
            ROIs averaged (default: all).

        Returns
        -------
        peak : dict
            ``speaker_lag``, ``listener_lag``, ``r``, ``latency`` (listener minus speaker).
        """
        da = self._ds["r"].sel(kind=kind, direction=direction)
        if roi_speaker is not None:
            da = da.sel(roi_speaker=np.atleast_1d(roi_speaker).tolist())
        if roi_listener is not None:
            da = da.sel(roi_listener=np.atleast_1d(roi_listener).tolist())
        m = da.mean(("roi_speaker", "roi_listener")).values
        i, j = np.unravel_index(int(np.nanargmax(m)), m.shape)
        ls, ll = float(da["speaker_lag"][i]), float(da["listener_lag"][j])
        return {"speaker_lag": ls, "listener_lag": ll, "r": float(m[i, j]), "latency": ll - ls}

    def to_data_frame(self) -> pd.DataFrame:
        """Tidy table: one row per kind x direction x ROI pair x speaker lag x listener lag.

        Returns
        -------
        df : pandas.DataFrame
            Columns ``dyad, kind, direction, roi_speaker, roi_listener, speaker_lag,
            listener_lag, r`` and ``p``, ``p_fwer`` when nulls were run.
        """
        vs = [v for v in ("r", "p", "p_fwer") if v in self._ds.data_vars]
        df = self._ds[vs].to_dataframe().reset_index()
        df = df[[*_DIMS, *vs]]
        df.insert(0, "dyad", str(self.attrs.get("dyad_id", "")))
        for c in ("kind", "direction", "roi_speaker", "roi_listener"):
            df[c] = df[c].astype(str)
        return df

    def save(self, path: str | os.PathLike, overwrite: bool = False) -> Path:
        """Write to netCDF (h5netcdf engine), atomically.

        Parameters
        ----------
        path : path-like
            Output file (``.nc``).
        overwrite : bool
            Replace an existing file.

        Returns
        -------
        path : Path
        """
        path = Path(path)
        if path.exists() and not overwrite:
            raise FileExistsError(f"{path} exists; pass overwrite=True to replace it")
        ds = self._ds.copy()
        ds.attrs = {k: _encode_attr(v) for k, v in ds.attrs.items()}
        ds.attrs["hyperalign_format"] = _FORMAT
        for name in list(ds.variables):
            if ds[name].dtype == object:
                ds[name] = ds[name].astype(str)
        tmp, final = atomic_path(path)
        try:
            ds.to_netcdf(tmp, engine="h5netcdf")
            os.replace(tmp, final)
        except BaseException:
            if tmp.exists():
                tmp.unlink()
            raise
        logger.info("B2BCoupling written to %s", final)
        return final

    def __repr__(self) -> str:
        sizes = ", ".join(f"{k} {v}" for k, v in self._ds.sizes.items())
        return f"<B2BCoupling | {self.attrs.get('dyad_id', '')} | {sizes}>"

    def __eq__(self, other) -> bool:
        return isinstance(other, B2BCoupling) and self._ds.identical(other._ds)

    __hash__ = None  # type: ignore[assignment]


def read_b2b(path: str | os.PathLike) -> B2BCoupling:
    """Read a :class:`B2BCoupling` written by :meth:`B2BCoupling.save`.

    Parameters
    ----------
    path : path-like
        A ``.nc`` file.

    Returns
    -------
    result : B2BCoupling
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no B2BCoupling file at {path}")
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        ds = ds.load()
    fmt = ds.attrs.pop("hyperalign_format", None)
    if fmt != _FORMAT:
        raise ValueError(f"{path} is not a hyperalign B2BCoupling file (format={fmt!r})")
    ds.attrs = {k: _decode_attr(v) for k, v in ds.attrs.items()}
    for c in list(ds.variables):
        if ds[c].dtype.kind in "US":
            ds[c] = ds[c].astype(object)
    return B2BCoupling(ds)
