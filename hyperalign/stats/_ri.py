"""Exact ML / REML fits of random-intercept linear mixed models from group sufficient statistics.

``y = X β + u_g + e``, ``u_g ~ N(0, τ²)``, ``e ~ N(0, σ²)``. With ``λ = τ²/σ²`` the GLS
cross-products are ``X'V⁻¹X = X'X - Σ_g a_g / n_g · s_g s_g'`` (``s_g`` = group column sums,
``a_g = n_g λ / (1 + n_g λ)``, in units of ``σ²``), so the profiled (restricted) likelihood
is a cheap function of the single parameter ``λ``, maximized with Brent's method on
``log λ`` and compared with the boundary ``λ = 0``. The same likelihood as statsmodels
``MixedLM`` with a random intercept (used to check it in the tests), ~100x faster, which
matters when thousands of cells or simulated studies are fitted.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_LOG2PI = np.log(2 * np.pi)


@dataclass
class RIFit:
    """Random-intercept fit: ``params, bse, cov_params, sigma2, tau2, llf, reml, n_obs``."""

    params: np.ndarray
    bse: np.ndarray
    cov_params: np.ndarray
    sigma2: float
    tau2: float
    llf: float
    reml: bool
    n_obs: int
    n_groups: int
    var_fixed: float

    @property
    def r2(self) -> dict:
        total = self.var_fixed + self.tau2 + self.sigma2
        return {
            "R2m": self.var_fixed / total,
            "R2c": (self.var_fixed + self.tau2) / total,
            "var_fixed": self.var_fixed,
            "var_random": self.tau2,
            "var_vc": 0.0,
            "var_resid": self.sigma2,
        }


class RandomInterceptModel:
    """Sufficient statistics of ``(y, X, groups)`` for fast random-intercept fits."""

    def __init__(self, y: np.ndarray, X: np.ndarray, codes: np.ndarray):
        y = np.asarray(y, dtype=float)
        X = np.asarray(X, dtype=float)
        codes = np.asarray(codes)
        self.n, self.p = X.shape
        self.n_g = np.bincount(codes).astype(float)
        G = self.n_g.size
        onehot = np.zeros((G, self.n))
        onehot[codes, np.arange(self.n)] = 1.0
        self.sX = onehot @ X  # (G, p)
        self.sy = onehot @ y  # (G,)
        self.XX = X.T @ X
        self.Xy = X.T @ y
        self.yy = float(y @ y)
        self.X = X

    def _gls(self, lam: float):
        a = self.n_g * lam / (1.0 + self.n_g * lam) / self.n_g  # a_g / n_g
        XVX = self.XX - (self.sX * a[:, None]).T @ self.sX
        XVy = self.Xy - (self.sX * a[:, None]).T @ self.sy
        yVy = self.yy - float(np.sum(a * self.sy**2))
        L = np.linalg.cholesky(XVX)
        beta = np.linalg.solve(L.T, np.linalg.solve(L, XVy))
        rss = max(yVy - float(XVy @ beta), 1e-300)
        logdet_v = float(np.sum(np.log1p(self.n_g * lam)))
        logdet_xvx = 2.0 * float(np.sum(np.log(np.diag(L))))
        return beta, rss, logdet_v, logdet_xvx, XVX

    def loglike(self, lam: float, reml: bool) -> float:
        _, rss, ldv, ldx, _ = self._gls(lam)
        n, p = self.n, self.p
        if reml:
            m = n - p
            s2 = rss / m
            return -0.5 * (m * _LOG2PI + m * np.log(s2) + m + ldv + ldx)
        s2 = rss / n
        return -0.5 * (n * _LOG2PI + n * np.log(s2) + n + ldv)

    def fit(self, reml: bool = True) -> RIFit:
        from scipy.optimize import minimize_scalar

        def nll(t):
            return -self.loglike(np.exp(t), reml)

        best = minimize_scalar(nll, bounds=(-25.0, 12.0), method="bounded",
                               options={"xatol": 1e-10})  # fmt: skip
        lam, f = float(np.exp(best.x)), float(best.fun)
        f0 = -self.loglike(0.0, reml)
        if f0 <= f:
            lam, f = 0.0, f0
        beta, rss, _, _, XVX = self._gls(lam)
        s2 = rss / (self.n - self.p if reml else self.n)
        cov = s2 * np.linalg.inv(XVX)
        return RIFit(
            params=beta, bse=np.sqrt(np.diag(cov)), cov_params=cov, sigma2=s2, tau2=lam * s2,
            llf=-f, reml=reml, n_obs=self.n, n_groups=int(self.n_g.size),
            var_fixed=float(np.var(self.X @ beta)),
        )  # fmt: skip


class FastMixedLMResults:
    """The subset of statsmodels ``MixedLMResults`` used by hyperalign, from a :class:`RIFit`.

    Attributes mirror statsmodels: ``fe_params, bse_fe, pvalues, llf, scale, cov_re, vcomp,
    nobs, converged, model`` (``model.endog, model.exog, model.exog_names, model.exog_re``)
    and ``conf_int(alpha)``. Standard errors are the GLS ones, ``σ² (X'H⁻¹X)⁻¹`` (expected
    information); statsmodels' observed-information SEs differ by < 0.1 % in our tests.
    """

    def __init__(self, fit: RIFit, model, group_name: str = "Group"):
        import pandas as pd
        from scipy import stats

        names = list(model.exog_names)
        self.fit = fit
        self.model = model
        self.fe_params = pd.Series(fit.params, index=names)
        self.bse_fe = pd.Series(fit.bse, index=names)
        self.bse = self.bse_fe
        z = self.fe_params / self.bse_fe
        self.tvalues = z
        self.pvalues = pd.Series(2 * stats.norm.sf(np.abs(z)), index=names)
        self.llf = fit.llf
        self.scale = fit.sigma2
        self.cov_re = pd.DataFrame([[fit.tau2]], index=[group_name], columns=[group_name])
        self.vcomp = np.empty(0)
        self.nobs = fit.n_obs
        self.converged = True
        self.reml = fit.reml

    def conf_int(self, alpha: float = 0.05):
        import pandas as pd
        from scipy import stats

        q = stats.norm.ppf(1 - alpha / 2)
        return pd.DataFrame(
            {0: self.fe_params - q * self.bse_fe, 1: self.fe_params + q * self.bse_fe}
        )
