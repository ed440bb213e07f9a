"""``B2BCoupling``: lag-by-lag maps of model-based brain-to-brain coupling (xarray-backed)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ..utils._validation import renamed_params, warn_renamed
from .result import _read_dataset, _save_dataset

__all__ = ["B2BCoupling", "read_b2b"]

_FORMAT = "hyperalign.B2BCoupling/1"
_DIMS = ("map_type", "direction", "roi_speaker", "roi_listener", "speaker_lag", "listener_lag")
_LAYER_COORDS = ("model", "modality", "layer_name", "layer_index", "depth")


class B2BCoupling:
    """Lag-by-lag coupling maps of one dyad (or a group mean).

    Parameters
    ----------
    data : xarray.Dataset
        ``r`` over the dims ``map_type`` (``raw``, ``residual``, ``direct``), ``direction``
        (``s2l``, ``l2s``, ``sym``), ``roi_speaker``, ``roi_listener``, ``speaker_lag``,
        ``listener_lag`` (seconds); with nulls also ``p`` and ``p_fwer`` (max-statistic over
        ROI pairs and both lag axes, per map type and direction) and ``threshold`` (the
        ``1 - alpha`` quantile of the null maximum). ``attrs`` hold every parameter and
        ``n_words``. A layer sweep (:func:`~hyperalign.encoding.sweep_b2b`) adds a leading
        ``layer`` dim with the coordinates ``model``, ``modality``, ``layer_name``,
        ``layer_index`` and ``depth``. A dataset (or file) of an earlier release, whose
        ``map_type`` dim was called ``kind``, is read with the dim renamed.

    Attributes
    ----------
    dataset : xarray.Dataset
        The underlying dataset.
    """

    def __init__(self, data: xr.Dataset):
        if not isinstance(data, xr.Dataset) or "r" not in data.data_vars:
            raise ValueError("a B2BCoupling needs an xarray.Dataset with an 'r' variable")
        if "kind" in data.dims and "map_type" not in data.dims:  # from an earlier version
            data = data.rename({"kind": "map_type"})
        self._ds = data

    @property
    def dataset(self) -> xr.Dataset:
        """The underlying :class:`xarray.Dataset`."""
        return self._ds

    @property
    def attrs(self) -> dict:
        """Parameters: dyad_id, n_words, lags, window, folds, null, ..."""
        return self._ds.attrs

    @property
    def layers(self) -> list[str]:
        """Layer labels of a layer sweep (empty without a ``layer`` dim)."""
        if "layer" not in self._ds.dims:
            return []
        return [str(v) for v in self._ds["layer"].values]

    def get_scores(self, metric: str = "r") -> xr.DataArray:
        """One variable.

        Parameters
        ----------
        metric : 'r' | 'p' | 'p_fwer' | 'threshold'
            The variable.

        Returns
        -------
        scores : xarray.DataArray
            Its values over the maps' dims.
        """
        if metric not in self._ds.data_vars:
            raise ValueError(f"metric must be one of {list(self._ds.data_vars)}; got {metric!r}")
        return self._ds[metric]

    def sel(self, **indexers) -> B2BCoupling:
        """Select by coordinate labels (``xarray.Dataset.sel``).

        Parameters
        ----------
        **indexers
            Dim name to label(s), e.g. ``map_type='raw'`` or ``layer=['m:layer_1']``
            (``kind=`` is a deprecated alias of ``map_type=``).

        Returns
        -------
        coupling : B2BCoupling
            The selection.
        """
        if "kind" in indexers and "kind" not in self._ds.dims:
            warn_renamed("B2BCoupling.sel", "kind", "map_type")
            indexers["map_type"] = indexers.pop("kind")
        return B2BCoupling(self._ds.sel(**indexers))

    @renamed_params(kind="map_type")
    def peak(
        self,
        map_type: str = "raw",
        direction: str = "sym",
        *,
        roi_speaker=None,
        roi_listener=None,
        layer=None,
    ) -> dict:
        """Speaker lag, listener lag (and layer) of the map's maximum, ROI pairs averaged first.

        Parameters
        ----------
        map_type : 'raw' | 'residual' | 'direct'
            Which map (called ``kind`` before; that name is a deprecated alias).
        direction : 's2l' | 'l2s' | 'sym'
            Which direction.
        roi_speaker, roi_listener : str | list of str | None
            ROIs averaged (default: all).
        layer : str | list of str | None
            With a ``layer`` dim: the layer(s) searched (default: every layer, so the peak
            also says through which layer the brains are most coupled).

        Returns
        -------
        peak : dict
            ``speaker_lag``, ``listener_lag``, ``r``, ``latency`` (listener minus speaker)
            and, with a ``layer`` dim, ``layer``.
        """
        da = self._ds["r"].sel(map_type=map_type, direction=direction)
        if roi_speaker is not None:
            da = da.sel(roi_speaker=np.atleast_1d(roi_speaker).tolist())
        if roi_listener is not None:
            da = da.sel(roi_listener=np.atleast_1d(roi_listener).tolist())
        if "layer" not in da.dims:
            da = da.expand_dims(layer=[""])
        elif layer is not None:
            da = da.sel(layer=np.atleast_1d(layer).tolist())
        m = da.mean(("roi_speaker", "roi_listener")).transpose("layer", ...).values
        k, i, j = np.unravel_index(int(np.nanargmax(m)), m.shape)
        ls, ll = float(da["speaker_lag"][i]), float(da["listener_lag"][j])
        out = {"speaker_lag": ls, "listener_lag": ll, "r": float(m[k, i, j]), "latency": ll - ls}
        if "layer" in self._ds.dims:
            out["layer"] = str(da["layer"].values[k])
        return out

    def to_data_frame(self) -> pd.DataFrame:
        """Tidy table: one row per (layer x) map type x direction x ROI pair x lag pair.

        Returns
        -------
        df : pandas.DataFrame
            Columns ``dyad, map_type, direction, roi_speaker, roi_listener, speaker_lag,
            listener_lag, r`` and ``p``, ``p_fwer`` when nulls were run; a layer sweep adds
            ``layer, model, modality, layer_name, layer_index, depth`` after ``dyad``.
        """
        vs = [v for v in ("r", "p", "p_fwer") if v in self._ds.data_vars]
        df = self._ds[vs].to_dataframe().reset_index()
        lay = []
        if "layer" in self._ds.dims:
            lay = ["layer", *[c for c in _LAYER_COORDS if c in df.columns]]
            df["layer"] = df["layer"].astype(str)
        df = df[[*lay, *_DIMS, *vs]]
        df.insert(0, "dyad", str(self.attrs.get("dyad_id", "")))
        for c in ("map_type", "direction", "roi_speaker", "roi_listener"):
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
            The file written.

        See Also
        --------
        read_b2b
        """
        return _save_dataset(self._ds, path, _FORMAT, "B2BCoupling", overwrite)

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
        The maps, as saved.

    See Also
    --------
    B2BCoupling.save
    """
    return B2BCoupling(_read_dataset(path, _FORMAT, "B2BCoupling"))
