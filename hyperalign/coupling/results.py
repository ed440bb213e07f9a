"""``Coupling``: the synchrony results container (an :class:`xarray.DataArray` with named dims).

Dims are ``metric, epochs, freqs, lags, node_in, node_out``; the ``freqs`` dimension holds band
names (or frequencies in Hz) with ``fmin``/``fmax`` coordinates, ``lags`` holds seconds
(positive = S2 lags S1), and extra per-epoch coordinates (``utterance_id``, ``onset``, ...) come
from ``epochs_metadata``. Time-resolved results (synchrony across epochs with Morlet wavelets,
:func:`~hyperalign.coupling.across_epochs.sync_across_epochs`) have a seventh dim, ``times``.
Files are netCDF (h5netcdf engine), written atomically; a round trip is exact.
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

__all__ = ["Coupling", "read_coupling"]

DIMS = ("metric", "epochs", "freqs", "lags", "node_in", "node_out")
#: dims of a time-resolved Coupling (one value per time point of each epoch-average)
TIME_DIMS = (*DIMS, "times")
_FORMAT = "hyperalign.Coupling/1"


class Coupling:
    """Synchrony values per metric, epoch, band, lag and channel pair.

    Parameters
    ----------
    data : xarray.DataArray
        Values with dims ``('metric', 'epochs', 'freqs', 'lags', 'node_in', 'node_out')``,
        plus a last dim ``'times'`` for time-resolved values. Use :meth:`from_array` to build
        one from a NumPy array.

    Attributes
    ----------
    xarray : xarray.DataArray
        The underlying array (attrs: ``sfreq``, ``mode``, ``filter``, ``dyad_id``,
        ``participant_ids``, ``units``, ...).

    See Also
    --------
    compute_sync, compute_dyad_sync, read_coupling

    Examples
    --------
    >>> import numpy as np
    >>> from hyperalign.coupling import Coupling
    >>> con = Coupling.from_array(
    ...     np.full((1, 3, 1, 1, 2, 2), 0.5), metrics=["plv"], bands={"alpha": (8, 13)},
    ...     lags=[0.0], node_in=["Fz", "Cz"], node_out=["Fz", "Cz"], attrs={"dyad_id": "d01"})
    >>> con.bands
    {'alpha': (8.0, 13.0)}
    >>> con.mean("epochs").get_data().shape
    (1, 1, 1, 1, 2, 2)
    >>> con.to_data_frame().head(2)
      dyad  epoch metric   band  lag node_in node_out  value
    0  d01      0    plv  alpha  0.0      Fz       Fz    0.5
    1  d01      0    plv  alpha  0.0      Fz       Cz    0.5
    """

    def __init__(self, data: xr.DataArray):
        _validate_type(data, xr.DataArray, "data", "an xarray.DataArray")
        if tuple(data.dims) not in (DIMS, TIME_DIMS):
            raise ValueError(
                f"Coupling dims must be {DIMS} (or with a last dim 'times'); got "
                f"{tuple(data.dims)}"
            )
        self._da = data

    # construction ------------------------------------------------------------------------
    @classmethod
    def from_array(
        cls,
        values: np.ndarray,
        *,
        metrics: Sequence[str],
        bands: dict,
        lags: Sequence[float],
        node_in: Sequence[str],
        node_out: Sequence[str],
        attrs: dict | None = None,
        epochs_metadata: pd.DataFrame | None = None,
        times: Sequence[float] | None = None,
    ) -> Coupling:
        """Build from an array shaped (metric, epochs, freqs, lags, node_in, node_out).

        Parameters
        ----------
        values : ndarray
            The values; with ``times``, a last axis of ``len(times)`` time points.
        metrics, bands, lags, node_in, node_out
            Coordinates (``bands`` is ``{name: (fmin, fmax)}``).
        attrs : dict | None
            Attributes (sfreq, mode, dyad_id, ...).
        epochs_metadata : DataFrame | None
            One row per epoch; each column becomes a coordinate on ``epochs``.
        times : sequence of float | None
            Time points (s) of time-resolved values (the ``times`` dim); ``None``: none.

        Returns
        -------
        coupling : Coupling
        """
        values = np.asarray(values)
        n_ep = values.shape[1]
        coords = {
            "metric": list(metrics),
            "epochs": np.arange(n_ep),
            "freqs": list(bands),
            "fmin": ("freqs", np.array([b[0] for b in bands.values()], dtype=float)),
            "fmax": ("freqs", np.array([b[1] for b in bands.values()], dtype=float)),
            "lags": np.asarray(lags, dtype=float),
            "node_in": list(node_in),
            "node_out": list(node_out),
        }
        if epochs_metadata is not None:
            md = pd.DataFrame(epochs_metadata).reset_index(drop=True)
            if len(md) != n_ep:
                raise ValueError(f"epochs_metadata has {len(md)} rows but there are {n_ep} epochs")
            for col in md.columns:
                name = str(col)
                if name in DIMS or name in coords:
                    raise ValueError(
                        f"epochs_metadata column {name!r} clashes with a Coupling coordinate; "
                        "rename it"
                    )
                vals = md[col].to_numpy()
                if vals.dtype == object or isinstance(md[col].dtype, pd.StringDtype):
                    vals = np.array(["" if pd.isna(v) else str(v) for v in vals], dtype=object)
                coords[name] = ("epochs", vals)
        dims = DIMS
        if times is not None:
            coords["times"] = np.asarray(times, dtype=float)
            dims = TIME_DIMS
        da = xr.DataArray(values, dims=dims, coords=coords, attrs=dict(attrs or {}))
        return cls(da)

    # accessors ---------------------------------------------------------------------------
    @property
    def xarray(self) -> xr.DataArray:
        """The underlying :class:`xarray.DataArray`."""
        return self._da

    @property
    def attrs(self) -> dict:
        """Attributes (sfreq, mode, filter, dyad_id, participant_ids, units, ...)."""
        return self._da.attrs

    @property
    def metrics(self) -> list[str]:
        """Metric names."""
        return [str(v) for v in self._da["metric"].values]

    @property
    def bands(self) -> dict[str, tuple[float, float]]:
        """Band name -> (fmin, fmax)."""
        da = self._da
        return {
            str(n): (float(lo), float(hi))
            for n, lo, hi in zip(da["freqs"].values, da["fmin"].values, da["fmax"].values)
        }

    @property
    def lags(self) -> np.ndarray:
        """Lags in seconds (positive = S2 lags S1)."""
        return self._da["lags"].values

    @property
    def node_in(self) -> list[str]:
        """Row channels (S1 in ``mode='inter'``)."""
        return [str(v) for v in self._da["node_in"].values]

    @property
    def node_out(self) -> list[str]:
        """Column channels (S2 in ``mode='inter'``)."""
        return [str(v) for v in self._da["node_out"].values]

    @property
    def times(self) -> np.ndarray | None:
        """Time points (s) of time-resolved values; ``None`` when there is no ``times`` dim."""
        return self._da["times"].values if "times" in self._da.dims else None

    @property
    def n_epochs(self) -> int:
        """Number of epochs."""
        return int(self._da.sizes["epochs"])

    @property
    def epochs_metadata(self) -> pd.DataFrame:
        """Per-epoch coordinates as a DataFrame (empty columns when none were given)."""
        cols = {
            k: v.values
            for k, v in self._da.coords.items()
            if v.dims == ("epochs",) and k != "epochs"
        }
        return pd.DataFrame(cols, index=pd.RangeIndex(self.n_epochs, name="epoch"))

    def get_data(self, metric: str | None = None) -> np.ndarray:
        """Values as a NumPy array.

        Parameters
        ----------
        metric : str | None
            One metric (its dim is dropped: (epochs, freqs, lags, node_in, node_out)), or
            ``None`` for all (metric, epochs, freqs, lags, node_in, node_out). Time-resolved
            values have a last axis ``times``.

        Returns
        -------
        values : ndarray
            The values (possibly a view of the stored array: copy before modifying).
        """
        if metric is None:
            return self._da.values
        from ._kernels import resolve_metric

        # metrics outside the registry (e.g. lagged_correlation's 'isfc') by their own name
        name = metric if metric in self.metrics else resolve_metric(metric)
        if name not in self.metrics:
            raise ValueError(f"metric {metric!r} was not computed; available: {self.metrics}")
        return self._da.sel(metric=name).values

    def sel(self, **indexers) -> Coupling:
        """Select by coordinate labels (dims are kept: scalars become length-1 lists).

        Parameters
        ----------
        **indexers
            ``dim=label`` or ``dim=[labels]`` for dims among ``metric``, ``epochs``,
            ``freqs``, ``lags``, ``node_in``, ``node_out`` and ``times`` when present
            (xarray's ``sel``).

        Returns
        -------
        coupling : Coupling
            The selection, with every dim kept.

        Examples
        --------
        >>> con.sel(metric='plv', freqs='alpha', lags=0.0)  # doctest: +SKIP
        """
        idx = {
            k: ([v] if k in DIMS and (np.isscalar(v) or isinstance(v, str)) else v)
            for k, v in indexers.items()
        }
        dims = tuple(self._da.dims)
        idx = {k: ([v] if k == "times" and np.isscalar(v) else v) for k, v in idx.items()}
        unknown = [k for k in idx if k not in dims]
        if unknown:
            raise ValueError(f"sel() takes the dims {list(dims)}; got {unknown}")
        return Coupling(self._da.sel(**idx))

    def mean(self, dim: str | Sequence[str], *, skipna: bool = False) -> Coupling:
        """Average over one or more dims (kept with length 1, labelled ``'mean'``/nan).

        Parameters
        ----------
        dim : str | list of str
            Dims among ``epochs``, ``lags``, ``node_in``, ``node_out``, ``freqs`` (and
            ``times`` when present).
        skipna : bool
            NaN policy. ``False`` (default): a NaN value makes its average NaN, so an undefined
            value (e.g. a channel flat in one epoch) is never hidden. ``True``: NaN values are
            left out of the average (``numpy.nanmean``, HyPyP's ``epochs_average``); an
            average over only NaN values stays NaN.

        Returns
        -------
        coupling : Coupling
            The average, each averaged dim kept with length 1.
        """
        _validate_type(skipna, (bool, np.bool_), "skipna", "True or False")
        dims = [dim] if isinstance(dim, str) else list(dim)
        all_dims = tuple(self._da.dims)
        for d in dims:
            if d not in all_dims or d == "metric":
                raise ValueError(
                    f"mean() dims must be among {[x for x in all_dims if x != 'metric']}; "
                    f"got {d!r}"
                )
        da = self._da
        for d in dims:
            keep = {c: v for c, v in da.coords.items() if d not in v.dims}
            red = da.mean(dim=d, skipna=bool(skipna), keep_attrs=True)
            red = red.expand_dims({d: 1}).transpose(*all_dims)
            if d == "freqs":
                red = red.assign_coords(
                    freqs=["mean"],
                    fmin=("freqs", [da["fmin"].min().item()]),
                    fmax=("freqs", [da["fmax"].max().item()]),
                )
            elif d in ("lags", "times"):
                red = red.assign_coords({d: [float(np.mean(da[d].values))]})
            elif d == "epochs":
                red = red.assign_coords(epochs=[-1])
            else:
                red = red.assign_coords({d: ["mean"]})
            red = red.assign_coords({c: v for c, v in keep.items() if c not in red.coords})
            da = red
        return Coupling(da)

    # tidy export -------------------------------------------------------------------------
    def to_data_frame(self) -> pd.DataFrame:
        """One row per value, in a tidy table.

        Returns
        -------
        df : pandas.DataFrame
            Columns ``dyad, epoch, utterance_id`` (when the epochs carry it), ``metric, band,
            lag, node_in, node_out``, ``time`` (time-resolved values only) and ``value``.
        """
        da = self._da
        shape = da.shape
        grids = np.indices(shape, sparse=False).reshape(len(shape), -1)
        cols: dict[str, np.ndarray] = {}
        cols["dyad"] = np.full(grids.shape[1], self.attrs.get("dyad_id", ""), dtype=object)
        cols["epoch"] = da["epochs"].values[grids[1]]
        if "utterance_id" in da.coords and da["utterance_id"].dims == ("epochs",):
            cols["utterance_id"] = da["utterance_id"].values[grids[1]]
        cols["metric"] = np.asarray(self.metrics, dtype=object)[grids[0]]
        cols["band"] = np.asarray([str(v) for v in da["freqs"].values], dtype=object)[grids[2]]
        cols["lag"] = da["lags"].values[grids[3]]
        cols["node_in"] = np.asarray(self.node_in, dtype=object)[grids[4]]
        cols["node_out"] = np.asarray(self.node_out, dtype=object)[grids[5]]
        if "times" in da.dims:
            cols["time"] = da["times"].values[grids[6]]
        cols["value"] = da.values.reshape(-1)
        return pd.DataFrame(cols)

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
        return _write_netcdf(self._da, path, fmt=_FORMAT, what="Coupling", overwrite=overwrite)

    # repr --------------------------------------------------------------------------------
    def __repr__(self) -> str:
        s = self._da.sizes
        dyad = self.attrs.get("dyad_id") or "?"
        b = self.bands
        if all(lo == hi for lo, hi in b.values()):  # frequency bins, not named bands
            f = [lo for lo, _ in b.values()]
            many = f"{len(f)} freqs, {min(f):g}-{max(f):g}"
            bands = (many if len(f) > 5 else ", ".join(f"{v:g}" for v in f)) + " Hz"
        else:
            bands = ", ".join(f"{n} {lo:g}-{hi:g} Hz" for n, (lo, hi) in b.items())
        lags = ", ".join(f"{v:g}" for v in self.lags)
        times = f" x {s['times']} times" if "times" in s else ""
        return (
            f"<Coupling | dyad {dyad} | {s['epochs']} epochs x {s['node_in']} x "
            f"{s['node_out']} pairs{times} ({self.attrs.get('mode', '?')}) | metrics: "
            f"{', '.join(self.metrics)} | bands: {bands} | lags (s): {lags} | "
            f"sfreq {self.attrs.get('sfreq', '?')} Hz>"
        )

    def __eq__(self, other) -> bool:  # exact equality, for round trips
        return isinstance(other, Coupling) and self._da.identical(other._da)

    __hash__ = None  # type: ignore[assignment]


def read_coupling(path: str | os.PathLike) -> Coupling:
    """Read a :class:`Coupling` written by :meth:`Coupling.save`.

    Parameters
    ----------
    path : path-like
        A ``.nc`` file.

    Returns
    -------
    coupling : Coupling
        The values, coordinates and attributes as saved.
    """
    da = _read_netcdf(path, fmt=_FORMAT, what="Coupling", dataset=False)
    for c in list(da.coords):
        if da[c].dtype.kind in "US":
            da = da.assign_coords({c: (da[c].dims, da[c].values.astype(object))})
    return Coupling(da)
