"""fMRI ROI or voxel time series as an :class:`mne.io.RawArray` (sfreq = 1 / TR).

Slow signals (fMRI, like fNIRS) then flow through the same :class:`~hyperalign.Dyad` as
EEG. Channels get type ``'misc'`` by default (MNE has no fMRI channel type; pick them with
``picks='misc'``); volume ``k`` is at ``k * TR`` seconds.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ..utils import check_option, check_positive, fill_doc, logger, verbose

__all__ = ["read_fmri_roi"]

_NIFTI = (".nii", ".nii.gz")


def _is_nifti(x) -> bool:
    return isinstance(x, str | os.PathLike) and str(x).lower().endswith(_NIFTI)


@fill_doc
@verbose
def read_fmri_roi(
    data_or_path,
    tr: float | None = None,
    *,
    roi_names: Sequence[str] | None = None,
    masker=None,
    ch_type: str = "misc",
    standardize: bool = False,
    verbose=None,
):
    """Read ROI/voxel fMRI time series into an :class:`mne.io.RawArray`.

    Parameters
    ----------
    data_or_path : array | path | nibabel image
        ``(n_volumes, n_rois)`` array (nilearn's layout), a ``.npy`` file of it, a TSV/CSV
        table (one column per ROI, one row per volume; the header names the ROIs), or a 4-D
        NIfTI image (path or image) reduced with ``masker``.
    tr : float | None
        Repetition time (s). Required for arrays and tables; for NIfTI read from the header
        when ``None``.
    roi_names : sequence of str | None
        Channel names (default: the table header, the atlas labels or ``roi000``…).
    masker : nilearn masker | atlas image | mask image | None
        For NIfTI input: a nilearn masker (fitted or not), an integer label atlas (path or
        image; ``NiftiLabelsMasker``, one channel per label) or a binary mask (``NiftiMasker``,
        one channel per voxel).
    ch_type : str
        MNE channel type, ``'misc'`` (default) or ``'bio'``.
    standardize : bool
        If True, z-score each time series.
    %(verbose)s

    Returns
    -------
    mne.io.RawArray
        ``sfreq = 1 / tr``; ``raw.info['description']`` records the source and TR.
    """
    import mne

    check_option("ch_type", ch_type, ("misc", "bio"))
    source = "array"
    if isinstance(data_or_path, str | os.PathLike) and not Path(data_or_path).exists():
        raise FileNotFoundError(f"fMRI data not found: {data_or_path}")
    if _is_nifti(data_or_path) or type(data_or_path).__name__.startswith("Nifti"):
        data, names, tr_hdr = _from_nifti(data_or_path, masker)
        source = str(data_or_path) if _is_nifti(data_or_path) else "NIfTI image"
        if tr is None:
            tr = tr_hdr
            logger.info("fMRI: TR %.3f s from the NIfTI header", tr)
    elif isinstance(data_or_path, str | os.PathLike):
        path = Path(data_or_path)
        source = str(path)
        if path.stat().st_size == 0:
            raise ValueError(f"{path}: the file is empty")
        if path.suffix.lower() == ".npy":
            data, names = np.load(path), None
        elif path.suffix.lower() in (".tsv", ".csv", ".txt"):
            df = _read_roi_table(path)
            bad = [c for c in df.columns if not pd.api.types.is_numeric_dtype(df[c])]
            if bad:
                raise ValueError(
                    f"{path}: column(s) {bad} are not numeric; an ROI table has one numeric "
                    "column per ROI and one row per volume"
                )
            data, names = df.to_numpy(float), [str(c) for c in df.columns]
        else:
            raise ValueError(
                f"{path}: unsupported suffix {path.suffix!r}; give .nii/.nii.gz, .npy, "
                ".tsv or .csv"
            )
    else:
        data, names = np.asarray(data_or_path, dtype=float), None
    if tr is None:
        raise ValueError(f"tr (repetition time, s) is required for {source}; got None")
    check_positive("tr", tr)
    data = np.asarray(data, dtype=float)
    if data.ndim == 1:
        data = data[:, None]
    if data.ndim != 2 or data.shape[0] < 2:
        raise ValueError(
            f"{source}: expected a (n_volumes, n_rois) array with >= 2 volumes; got shape "
            f"{data.shape}"
        )
    bad = ~np.isfinite(data)
    if bad.any():
        cols = np.flatnonzero(bad.any(0)).tolist()
        raise ValueError(
            f"{source}: {int(bad.sum())} NaN/inf value(s) in ROI column(s) {cols[:10]}; "
            "interpolate or drop those ROIs first"
        )
    if roi_names is not None:
        names = [str(n) for n in roi_names]
    if names is None:
        names = [f"roi{k:03d}" for k in range(data.shape[1])]
    if len(names) != data.shape[1]:
        raise ValueError(f"roi_names has {len(names)} names but {source} has {data.shape[1]} ROIs")
    flat = np.flatnonzero(np.ptp(data, axis=0) == 0)
    if len(flat):
        logger.warning(
            "fMRI: %d ROI(s) are constant over all volumes (no signal): %s; mark them bad "
            "(raw.info['bads']) or drop them",
            len(flat), [names[k] if names else int(k) for k in flat[:10]],
        )  # fmt: skip
    if standardize:
        sd = data.std(0)
        sd[sd == 0] = 1.0
        data = (data - data.mean(0)) / sd
    info = mne.create_info(names, 1.0 / float(tr), ch_type)
    raw = mne.io.RawArray(data.T, info, verbose=False)
    raw.info["description"] = f"fMRI ROI time series from {source}, TR {float(tr):g} s"
    logger.info("fMRI: %d volumes x %d ROIs at TR %g s from %s", *data.shape, tr, source)
    return raw


def _is_number(x: str) -> bool:
    try:
        float(x)
    except ValueError:
        return False
    return True


def _read_roi_table(path: Path) -> pd.DataFrame:
    """An ROI table with or without a header row (AFNI/FSL write plain numbers)."""
    first = path.read_text(encoding="utf-8-sig").splitlines()[0]
    if path.suffix.lower() == ".csv":
        sep = ","
    elif path.suffix.lower() == ".txt" and "\t" not in first:
        sep = r"\s+"  # whitespace-separated columns (1D files, fslmeants)
    else:
        sep = "\t"
    cells = [c for c in re.split(sep if sep != "," else ",", first.strip()) if c != ""]
    header = None if cells and all(_is_number(c) for c in cells) else 0
    if header is None:
        logger.info("%s: no header row (the first line is numbers): ROIs named roi000...", path)
    df = pd.read_csv(path, sep=sep, header=header, encoding="utf-8-sig")
    if header is None:
        df.columns = [f"roi{k:03d}" for k in range(df.shape[1])]
    return df


def _from_nifti(img, masker):
    import nibabel as nib
    from nilearn import image as nimg
    from nilearn.maskers import NiftiLabelsMasker, NiftiMasker

    img = nimg.load_img(img)
    if img.ndim != 4:
        raise ValueError(f"the fMRI image must be 4-D (x, y, z, time); got shape {img.shape}")
    zooms = img.header.get_zooms()
    tr_hdr = float(zooms[3]) if len(zooms) > 3 and zooms[3] > 0 else None
    if masker is None:
        raise ValueError(
            "masker is required for a NIfTI image: a nilearn masker, a label atlas or a "
            "binary mask"
        )
    names = None
    if isinstance(masker, str | os.PathLike | nib.spatialimages.SpatialImage):
        atlas = nimg.load_img(masker)
        vals = np.unique(np.asarray(atlas.dataobj))
        if set(vals.tolist()) <= {0, 1}:
            masker = NiftiMasker(mask_img=atlas)
        else:
            masker = NiftiLabelsMasker(labels_img=atlas)
            names = [f"label{int(v)}" for v in vals if v != 0]
    import warnings

    with warnings.catch_warnings():  # nilearn's notes on its own defaults (standardize=...)
        warnings.simplefilter("ignore", FutureWarning)
        data = masker.fit_transform(img)
    if isinstance(masker, NiftiLabelsMasker) and names is not None:
        if len(names) != data.shape[1]:
            names = None
    return data, names, tr_hdr
