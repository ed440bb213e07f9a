"""``EncodingResult``: scores, penalties and coefficients of an encoding model (xarray-backed).

An :class:`xarray.Dataset` whose variables share named dims: ``target`` (channel or ROI),
``lag`` (seconds: the word-level lag grid, or the TRF/FIR delays for ``coef``), ``fold``,
``space`` (feature spaces of a banded model), ``layer`` (a layer sweep), ``feature``.
Typical variables: ``r`` and ``r2`` (out-of-fold scores per target [and lag]), ``fold_r``
(per fold), ``alpha`` (chosen penalty per fold and target), ``coef``, ``split_r2`` (per
space), ``p``/``p_fwer`` (significance), ``n_test`` (samples per fold). Every parameter is in
``attrs`` (JSON-encoded on disk). Files are netCDF (h5netcdf), written atomically, as
:class:`hyperalign.coupling.Coupling` does.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ..utils._netcdf import _read_netcdf, _write_netcdf
from ..utils._validation import _validate_type

__all__ = ["EncodingResult", "read_encoding", "concat_results"]

_FORMAT = "hyperalign.EncodingResult/1"
_SCORE_VARS = ("r", "r2", "split_r2", "split_r", "p", "p_fwer", "p_fdr")


class EncodingResult:
    """Out-of-fold scores, chosen penalties and coefficients of one encoding model.

    Parameters
    ----------
    data : xarray.Dataset
        Variables over the dims ``target``, ``lag``, ``fold``, ``space``, ``layer``,
        ``feature`` (those that apply); ``attrs`` hold every parameter.

    Attributes
    ----------
    dataset : xarray.Dataset
        The underlying dataset.
    """

    def __init__(self, data: xr.Dataset):
        _validate_type(data, xr.Dataset, "data", "an xarray.Dataset")
        if "r" not in data.data_vars:
            raise ValueError(
                f"an EncodingResult needs an 'r' variable (scores); got {list(data.data_vars)}"
            )
        if "kind" in data.attrs and "estimator" not in data.attrs:  # from an earlier version
            data = data.copy()
            data.attrs["estimator"] = data.attrs.pop("kind")
        self._ds = data

    # accessors ---------------------------------------------------------------------------
    @property
    def dataset(self) -> xr.Dataset:
        """The underlying :class:`xarray.Dataset`."""
        return self._ds

    @property
    def attrs(self) -> dict:
        """Parameters: estimator (``trf``, ``fir``, ``word``, ``word_sweep``), role, ...

        Also ``participant``, ``dyad_id``, ``lags``, ``window``, ``alphas``, ``cv``; results of
        earlier versions name the estimator ``kind`` and are read with it renamed.
        """
        return self._ds.attrs

    @property
    def targets(self) -> list[str]:
        """Channel or ROI names."""
        return [str(v) for v in self._ds["target"].values]

    @property
    def lags(self) -> np.ndarray:
        """Lags (s) of the scores (word-level models) or of the coefficients (TRF/FIR)."""
        return self._ds["lag"].values if "lag" in self._ds.coords else np.zeros(0)

    def get_scores(self, metric: str = "r") -> xr.DataArray:
        """One score variable (``'r'``, ``'r2'``, ``'split_r2'``, ``'p_fwer'``, ...).

        Parameters
        ----------
        metric : str
            Name of a data variable of the result.

        Returns
        -------
        scores : xarray.DataArray
            The variable with its labelled dims (``target``, and ``lag``, ``layer``,
            ``space`` where present).
        """
        if metric not in self._ds.data_vars:
            raise ValueError(
                f"metric must be one of {[v for v in self._ds.data_vars]}; got {metric!r}"
            )
        return self._ds[metric]

    def peak_lag(self, metric: str = "r", *, target: str | Sequence[str] | None = None):
        """Lag (s) of the maximum score, for one target, the mean over ``target`` or each.

        Parameters
        ----------
        metric : str
            Score variable with a ``lag`` dim.
        target : str | list of str | None
            One target, a set (averaged first) or ``None`` (each target separately).

        Returns
        -------
        lag : float | pandas.Series
            The peak lag (s) for one target or a set; a Series over targets (or the other
            dims) otherwise.
        """
        da = self.get_scores(metric)
        if "lag" not in da.dims:
            raise ValueError(f"{metric!r} has no lag dim (dims {da.dims})")
        if target is None:
            best = da.idxmax("lag")
            return best.to_series()
        sel = da.sel(target=[target] if isinstance(target, str) else list(target))
        curve = sel.mean("target")
        if curve.ndim != 1:
            return curve.idxmax("lag").to_series()
        return float(curve["lag"].values[int(np.nanargmax(curve.values))])

    def sel(self, **indexers) -> EncodingResult:
        """Select by coordinate labels (``xarray.Dataset.sel``).

        Parameters
        ----------
        **indexers
            Dim name to label(s), e.g. ``target='Cz'`` or ``lag=slice(0, 0.5)``.

        Returns
        -------
        result : EncodingResult
            A new result over the selection.
        """
        return EncodingResult(self._ds.sel(**indexers))

    # tidy export -------------------------------------------------------------------------
    def to_data_frame(self, variables: Sequence[str] | None = None) -> pd.DataFrame:
        """Tidy table of the scores: one row per target (x lag x space x layer).

        Parameters
        ----------
        variables : list of str | None
            Variables to include as columns (default: every score variable present among
            ``r, r2, p, p_fwer, p_fdr``; ``split_r2`` adds a ``space`` column).

        Returns
        -------
        df : pandas.DataFrame
            Columns ``dyad, participant, role, target[, lag][, layer][, space]`` and one per
            variable.
        """
        ds = self._ds
        if variables is None:
            variables = [v for v in ("r", "r2", "p", "p_fwer", "p_fdr") if v in ds.data_vars]
            if "split_r2" in ds.data_vars:
                variables.append("split_r2")
        variables = list(variables)
        frames = []
        base_dims = [d for d in ("layer", "target", "lag") if d in ds["r"].dims]
        plain = [v for v in variables if set(ds[v].dims) <= set(base_dims)]
        if plain:
            frames.append(ds[plain].to_dataframe().reset_index()[base_dims + plain])
        spaced = [v for v in variables if "space" in ds[v].dims]
        for v in spaced:
            df = ds[v].to_dataframe().reset_index()
            frames.append(df[[c for c in df.columns if c in (*base_dims, "space", v)]])
        if not frames:
            raise ValueError(f"no score variables among {variables}")
        out = frames[0]
        for f in frames[1:]:
            out = out.merge(f, on=[c for c in base_dims if c in f.columns], how="outer")
        for k in ("role", "participant", "dyad_id"):
            col = "dyad" if k == "dyad_id" else k
            out.insert(0, col, self.attrs.get(k, ""))
        if "target" in out.columns:
            out["target"] = out["target"].astype(str)
        return out

    # io ----------------------------------------------------------------------------------
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
        """
        return _save_dataset(self._ds, path, _FORMAT, "EncodingResult", overwrite)

    def copy(self) -> EncodingResult:
        """Deep copy.

        Returns
        -------
        result : EncodingResult
            An independent copy.
        """
        return EncodingResult(self._ds.copy(deep=True))

    def __repr__(self) -> str:
        ds = self._ds
        sizes = ", ".join(f"{k} {v}" for k, v in ds.sizes.items())
        r = ds["r"]
        best = float(np.nanmax(r.values)) if r.size else np.nan
        return (
            f"<EncodingResult | {self.attrs.get('estimator', '?')} | {self.attrs.get('role', '')} "
            f"{self.attrs.get('participant', '')} | {sizes} | max r {best:.3f}>"
        )

    def __eq__(self, other) -> bool:
        return isinstance(other, EncodingResult) and self._ds.identical(other._ds)

    __hash__ = None  # type: ignore[assignment]


def read_encoding(path: str | os.PathLike) -> EncodingResult:
    """Read an :class:`EncodingResult` written by :meth:`EncodingResult.save`.

    Parameters
    ----------
    path : path-like
        A ``.nc`` file.

    Returns
    -------
    result : EncodingResult
        The result, as saved.

    See Also
    --------
    EncodingResult.save
    """
    return EncodingResult(_read_dataset(path, _FORMAT, "EncodingResult"))


def _save_dataset(ds: xr.Dataset, path, fmt: str, what: str, overwrite: bool) -> Path:
    """An encoding dataset to netCDF: object (string) coordinates as fixed strings."""
    ds = ds.copy()
    for name in list(ds.variables):
        if ds[name].dtype == object:
            ds[name] = ds[name].astype(str)
    return _write_netcdf(ds, path, fmt=fmt, what=what, overwrite=overwrite)


def _read_dataset(path, fmt: str, what: str) -> xr.Dataset:
    """The dataset written by :func:`_save_dataset`, string coordinates as objects again."""
    ds = _read_netcdf(path, fmt=fmt, what=what, dataset=True)
    for c in list(ds.variables):
        if ds[c].dtype.kind in "US":
            ds[c] = ds[c].astype(object)
    return ds


def concat_results(
    results: Sequence[EncodingResult], dim: str, labels: Sequence | None = None
) -> EncodingResult:
    """Stack results along a new dim (``'layer'``, ``'role'``, ``'participant'``, ...).

    Parameters
    ----------
    results : list of EncodingResult
        Results over the same targets and lags.
    dim : str
        Name of the new dim.
    labels : list | None
        Its coordinate (default ``0..n-1``).

    Returns
    -------
    result : EncodingResult
        The stacked result, with the attrs of the first result; ``attrs[dim + 's']`` lists
        the labels.
    """
    if not results:
        raise ValueError("results is empty")
    labels = list(range(len(results))) if labels is None else list(labels)
    if len(labels) != len(results):
        raise ValueError(f"{len(labels)} labels for {len(results)} results")
    ds = xr.concat([r.dataset for r in results], dim=dim, combine_attrs="override")
    ds = ds.assign_coords({dim: labels})
    ds.attrs[f"{dim}s"] = [str(v) for v in labels]
    return EncodingResult(ds)
