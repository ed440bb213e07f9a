"""Permutation nulls for the semantic likelihood-ratio statistic.

Two engines compute the same statistic under the same permutations:

* ``'refit'``: refit the full model by ML for each permutation (statsmodels; slow, exact);
  the statistic is ``2 * (llf_full(perm) - llf_null)``.
* ``'batch'``: hold the variance components of the ML null model fixed. For dyad ``d`` the
  null covariance is ``V_d = σ² I + τ² J`` whose inverse square root is closed-form,
  ``V_d^{-1/2} = (I - c_d J / n_d) / σ`` with ``c_d = 1 - σ / sqrt(σ² + n_d τ²)``. In the
  whitened space the LRT of the added semantic term(s) with fixed variances is the drop in
  residual sum of squares, ``r0' E (E'E)^{-1} E' r0`` (``r0`` the whitened null residual,
  ``E`` the whitened permuted semantic columns residualized on the whitened null design),
  which is computed for all permutations at once with matrix products.

Permutations are generated once per analysis from random keys per utterance so that every
cell (band × ROI × lag) sees the *same* permutation of the same utterances (needed for the
max-statistic correction), even when cells lost different rows.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ..utils import (
    _validate_type,
    check_option,
    check_random_state,
    fill_doc,
    single_thread_blas,
)

SCHEMES = ("within", "circular", "pseudo")
#: Permutations per matrix block of :func:`batch_lrt`; blocks of permutations sent to workers
#: are multiples of it, so that every permutation meets the same floating-point operations.
CHUNK = 256


@fill_doc
class PermutationPlan:
    """Shared random permutations over the utterances of an analysis table.

    Parameters
    ----------
    units : DataFrame
        Unique ``(groups, utterance_id)`` rows of the whole table.
    groups : str
        Grouping column (dyad).
    n_permutations : int
        Number of permutations (0: none).
    scheme : {'within', 'circular', 'pseudo'}
        ``'within'`` shuffles semantic alignment among the utterances of the same dyad;
        ``'circular'`` rotates each dyad's sequence of semantic alignment by a random offset
        (keeps its serial correlation, e.g. topic runs; ``n_d - 1`` distinct rotations per
        dyad);
        ``'pseudo'`` takes it from another dyad (a random derangement of dyads per
        permutation), matched by utterance position (cycled when the other dyad is shorter).
    %(random_state)s

    See Also
    --------
    batch_lrt, test_semantic_beyond_acoustics
    """

    def __init__(
        self, units: pd.DataFrame, groups: str, n_permutations: int, scheme: str, random_state=None
    ):
        check_option("scheme", scheme, SCHEMES)
        from ._checks import check_int

        n_permutations = check_int(n_permutations, "n_permutations", minimum=0)
        self.groups = groups
        self.scheme = scheme
        self.n_permutations = int(n_permutations)
        units = units.reset_index(drop=True)
        self.unit_index = pd.MultiIndex.from_frame(units[[groups, "utterance_id"]])
        self.group_names = np.array(sorted(units[groups].astype(str).unique()))
        rng = check_random_state(random_state)
        if scheme == "within":
            self.keys = rng.random((self.n_permutations, len(units)))
        elif scheme == "circular":
            # one uniform draw per dyad and permutation, turned into an offset per cell
            self.shifts = rng.random((self.n_permutations, len(self.group_names)))
        else:
            g = len(self.group_names)
            if g < 2:
                raise ValueError("scheme='pseudo' needs at least 2 dyads")
            self.derangements = _derangements(g, self.n_permutations, rng)
        self._cache: dict = {}

    def subset(self, block: slice) -> PermutationPlan:
        """The permutations ``block`` of this plan as a plan of their own (the same draws).

        A block of permutations sent to a worker carries only its own rows of the plan; the
        permutations are those of the whole plan, so a null computed in blocks equals the
        serial one whatever the blocks.

        Parameters
        ----------
        block : slice
            Permutations (rows of the plan), e.g. ``slice(256, 512)``.

        Returns
        -------
        plan : PermutationPlan
            The rows ``block`` of the plan's random draws, with the plan's units and groups.
        """
        new = object.__new__(PermutationPlan)
        new.groups, new.scheme = self.groups, self.scheme
        new.unit_index, new.group_names = self.unit_index, self.group_names
        for name in ("keys", "shifts", "derangements"):
            if hasattr(self, name):
                setattr(new, name, getattr(self, name)[block])
        new.n_permutations = len(range(*block.indices(self.n_permutations)))
        new._cache = {}
        return new

    def indices(self, cell: pd.DataFrame) -> np.ndarray:
        """Permutation indices ``(n_permutations, n_rows)`` into the rows of ``cell``.

        ``cell`` must be sorted by group (dyad) and, within dyad, by utterance order.

        Parameters
        ----------
        cell : pandas.DataFrame
            Rows of one cell with the ``groups`` and ``utterance_id`` columns; its utterances
            must belong to the plan's units (a cell may lack some of them).

        Returns
        -------
        perm : ndarray of int, shape (n_permutations, n_rows)
            Row ``i`` gives, for each row of ``cell``, the row whose semantic values it takes
            under permutation ``i``. The same utterances get the same permutation in every
            cell (results are cached per set of rows).
        """
        g = cell[self.groups].astype(str).to_numpy()
        codes = np.searchsorted(self.group_names, g)
        if np.any(np.diff(codes) < 0):
            raise ValueError("cell rows must be sorted by group before permuting")
        key = (
            codes.tobytes(),
            cell["utterance_id"].to_numpy().tobytes()
            if cell["utterance_id"].dtype != object
            else tuple(cell["utterance_id"]),
        )
        if key in self._cache:
            return self._cache[key]
        n = len(cell)
        if self.n_permutations == 0:
            out = np.empty((0, n), dtype=np.intp)
        elif self.scheme == "within":
            pos = self.unit_index.get_indexer(
                pd.MultiIndex.from_arrays([g, cell["utterance_id"].to_numpy()])
            )
            if np.any(pos < 0):
                raise ValueError("cell holds utterances unknown to the permutation plan")
            k = self.keys[:, pos] + 2.0 * codes[None, :]
            out = np.argsort(k, axis=1, kind="stable")
        elif self.scheme == "circular":
            n_g = np.bincount(codes, minlength=len(self.group_names))
            start = np.concatenate([[0], np.cumsum(n_g)[:-1]])
            within = np.arange(n) - start[codes]
            # offsets in 1 .. n_d - 1 (never the identity when n_d > 1)
            off = 1 + np.floor(self.shifts * np.maximum(n_g - 1, 1)[None, :]).astype(np.intp)
            off = np.where(n_g[None, :] > 1, off, 0)
            out = start[codes][None, :] + (within[None, :] + off[:, codes]) % n_g[codes][None, :]
        else:
            n_g = np.bincount(codes, minlength=len(self.group_names))
            start = np.concatenate([[0], np.cumsum(n_g)[:-1]])
            within = np.arange(n) - start[codes]
            src_group = self.derangements[:, codes]  # (P, n)
            n_src = n_g[src_group]
            if np.any(n_src == 0):
                raise ValueError("scheme='pseudo': a dyad has no rows in this cell")
            out = start[src_group] + within[None, :] % n_src
        self._cache[key] = out
        return out


def _derangements(g: int, n: int, rng: np.random.Generator) -> np.ndarray:
    out = np.empty((0, g), dtype=np.intp)
    while out.shape[0] < n:
        cand = np.argsort(rng.random((max(2 * n, 16), g)), axis=1)
        ok = ~np.any(cand == np.arange(g)[None, :], axis=1)
        out = np.vstack([out, cand[ok]])
    return out[:n]


def whitening_factors(codes: np.ndarray, sigma2: float, tau2: float) -> np.ndarray:
    """``c_d = 1 - σ / sqrt(σ² + n_d τ²)`` for every group (random intercept covariance)."""
    n_g = np.bincount(codes).astype(float)
    return 1.0 - np.sqrt(sigma2) / np.sqrt(sigma2 + n_g * max(tau2, 0.0))


def whiten(M: np.ndarray, codes: np.ndarray, sigma2: float, tau2: float) -> np.ndarray:
    """Apply ``V^{-1/2}`` of the random-intercept model to the rows of ``M`` (n, ...)."""
    M = np.asarray(M, dtype=float)
    flat = M.reshape(M.shape[0], -1)
    n_g = np.bincount(codes).astype(float)
    c = whitening_factors(codes, sigma2, tau2)
    onehot = np.zeros((n_g.size, flat.shape[0]))
    onehot[codes, np.arange(flat.shape[0])] = 1.0
    sums = onehot @ flat
    means = sums / n_g[:, None]
    out = (flat - c[codes, None] * means[codes]) / np.sqrt(sigma2)
    return out.reshape(M.shape)


def batch_lrt(
    y: np.ndarray,
    X0: np.ndarray,
    S: np.ndarray,
    codes: np.ndarray,
    sigma2: float,
    tau2: float,
    perm: np.ndarray | None = None,
    *,
    chunk: int = CHUNK,
) -> tuple[float, np.ndarray]:
    """Fixed-variance LRT of semantic columns ``S`` for the observed data and permutations.

    Parameters
    ----------
    y : ndarray (n,)
        Response (synchrony), rows sorted by group.
    X0 : ndarray (n, p0)
        Null-model design (intercept, acoustic terms, covariates).
    S : ndarray (n, k)
        Semantic design columns (added in the full model).
    codes : ndarray of int (n,)
        Group code of each row.
    sigma2, tau2 : float
        Residual and random-intercept variances of the ML null model (held fixed).
    perm : ndarray (n_permutations, n) | None
        Row indices of the permuted semantic columns.
    chunk : int
        Permutations per matrix block (memory).

    Returns
    -------
    observed : float
        The statistic on the observed data.
    null : ndarray (n_permutations,)
        The statistic under each permutation (empty without ``perm``).

    See Also
    --------
    PermutationPlan
    """
    S = np.asarray(S, dtype=float).reshape(len(y), -1)
    k = S.shape[1]
    yw = whiten(y[:, None], codes, sigma2, tau2)[:, 0]
    Xw = whiten(X0, codes, sigma2, tau2)
    Q, _ = np.linalg.qr(Xw)
    r0 = yw - Q @ (Q.T @ yw)

    def stat(Sw: np.ndarray) -> np.ndarray:
        # Sw: (n, P, k). r0 is orthogonal to span(Q), so r0'E = r0'Sw and
        # E'E = Sw'Sw - (Q'Sw)'(Q'Sw): no (n, P, k) residual array is formed.
        n, P, _ = Sw.shape
        flat = Sw.reshape(n, P * k)
        b = (r0 @ flat).reshape(P, k)
        QtF = (Q.T @ flat).reshape(-1, P, k)
        if k == 1:
            G = np.einsum("ij,ij->j", flat, flat) - np.einsum("ij,ij->j", QtF[..., 0], QtF[..., 0])
            with np.errstate(divide="ignore", invalid="ignore"):
                return np.where(G > 1e-12, b[:, 0] ** 2 / G, 0.0)
        F = flat.reshape(n, P, k)
        G = np.einsum("npk,npl->pkl", F, F) - np.einsum("qpk,qpl->pkl", QtF, QtF)
        sol = np.linalg.solve(G + 1e-12 * np.eye(k), b[..., None])[..., 0]
        return np.einsum("pk,pk->p", b, sol)

    obs = float(stat(whiten(S, codes, sigma2, tau2)[:, None, :])[0])
    if perm is None or len(perm) == 0:
        return obs, np.empty(0)
    out = np.empty(perm.shape[0])
    same_group = _perms_within_groups(perm, codes)
    Sw_full = whiten(S, codes, sigma2, tau2) if same_group else None
    for a in range(0, perm.shape[0], chunk):
        idx = perm[a : a + chunk]  # (P, n)
        if same_group:
            # within-group permutations commute with the group-wise whitening
            Sw = Sw_full[idx.T]  # (n, P, k)
        else:
            Sp = S[idx.T]  # (n, P, k)
            Sw = whiten(Sp, codes, sigma2, tau2)
        out[a : a + chunk] = stat(Sw)
    return obs, out


def _perms_within_groups(perm: np.ndarray, codes: np.ndarray) -> bool:
    return bool(np.all(codes[perm[: min(4, len(perm))]] == codes[None, :]))


# ---------------------------------------------------------- the null in blocks of permutations
def _null_block(block, rng, *, cells, plan, method) -> list[np.ndarray]:
    """The null of every cell for one block of permutations (the unit of work of a worker).

    ``plan`` holds the block's rows of the analysis's permutation plan: the permutations are
    drawn once, so the null does not depend on the blocks (``rng`` is not used).
    """
    out = []
    with single_thread_blas():
        for c in cells:
            if c is None:
                out.append(np.empty(0))
                continue
            perm = plan.indices(c["units"])
            if method == "batch":
                _, null = batch_lrt(c["y"], c["X0"], c["S"], c["codes"], c["sigma2"], c["tau2"],
                                    perm)  # fmt: skip
            else:
                null = _refit_permutations(c["y"], c["X0"], c["S"], c["codes"], perm, c["llf0"])
            out.append(null)
    return out


def _permutation_nulls(outs, plan, spec, block_size, n_jobs) -> list[np.ndarray]:
    """Permutation null of every cell, in blocks of ``block_size`` permutations.

    The blocks go through :func:`~hyperalign.utils._parallel.map_blocks`: serially, on joblib
    workers (``n_jobs``) or on the Dask cluster of a pipeline run (joblib's Dask backend).
    Every block carries its own rows of the one permutation plan, and its size is a multiple
    of the batch engine's chunk, so the null equals the serial one bit for bit whatever the
    blocks and workers.
    """
    from ..utils._parallel import map_blocks
    from .correction import permutation_pvalues

    cells = [o[1] for o in outs]
    if spec["n_permutations"] == 0 or not outs:
        return [np.empty(0) for _ in outs]
    blocks = map_blocks(
        _null_block, plan.n_permutations, block_size=block_size, random_state=0, n_jobs=n_jobs,
        block_kwargs=lambda b: {"plan": plan.subset(b)}, cells=cells, method=spec["method"],
    )  # fmt: skip
    nulls = [np.concatenate([b[i] for b in blocks]) for i in range(len(cells))]
    for (row, *_), null in zip(outs, nulls):
        row["p_perm"] = float(permutation_pvalues(row["stat_perm_obs"], null[:, None])[0])
    return nulls


def _check_block_size(block_size) -> int:
    _validate_type(
        block_size, "int-like", "block_size", f"an int (a multiple of {CHUNK} permutations)"
    )
    if block_size < CHUNK or block_size % CHUNK:
        raise ValueError(
            f"block_size must be a positive multiple of {CHUNK} permutations (so that blocks give "
            f"the serial null bit for bit); got {block_size}. Use e.g. block_size={CHUNK}."
        )
    return int(block_size)


def _refit_permutations(y, X0, S, codes, perm, llf0) -> np.ndarray:
    """LRT of the full model refitted by ML for every permutation (statsmodels)."""
    from statsmodels.regression.mixed_linear_model import MixedLM

    from .mixed import robust_fit

    out = np.empty(len(perm))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i, idx in enumerate(perm):
            X1 = np.column_stack([X0, S[idx]])
            res = robust_fit(MixedLM(y, X1, groups=codes), reml=False)
            out[i] = max(0.0, 2.0 * (res.llf - llf0))
    return out
