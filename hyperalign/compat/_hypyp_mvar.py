"""MVAR-based directed connectivity as HyPyP 0.6.2's ``compute_conn_mvar`` (MVARICA).

For every epoch and frequency band of HyPyP's 5-D analytic signal, the real part of the
2 x n_channels signals is fitted by a multivariate autoregressive model of order ``p`` (least
squares, optionally ridge), the residuals are unmixed by ICA (extended infomax, infomax or
FastICA), the VAR coefficients are taken to the ICA source space (``A_k' = U^T A_k M^T`` with
``U`` the unmixing and ``M = pinv(U)``, as HyPyP), and the connectivity is read from the
frequency response ``A(f) = I - sum_k A_k' exp(-2 pi i f k)`` and the transfer function
``H(f) = A(f)^-1`` on ``n_fft`` points: PDC (Baccala & Sameshima 2001), DTF (Kaminski &
Blinowska 1991), or ``A`` and ``H`` themselves.
"""

from __future__ import annotations

import numpy as np

__all__ = ["MVAR", "compute_conn_mvar", "connectivity_mvarica"]

MEASURES = ("pdc", "dtf", "mvar_spectral", "mvar_tf")


class MVAR:
    """Multivariate autoregressive model (HyPyP's ``hypyp.mvarica.MVAR`` layout).

    Parameters
    ----------
    model_order : int
        Number of past samples ``p``.
    fitting_method : 'default' | object
        ``'default'``: least squares (ridge when ``delta > 0``); an object with ``fit(x, y)``
        and ``coef`` (e.g. a scikit-learn regressor) is used on HyPyP's design matrix.
    delta : float
        Ridge penalty: ``p * C`` extra rows with ``delta`` on the diagonal (penalty
        ``delta**2``), as HyPyP's ``construct_equation`` builds them.
    bug_compat : bool
        HyPyP 0.6.2 raises TypeError for ``delta != 0`` (it passes three arguments to a
        two-argument method); ``True`` reproduces that.

    Attributes
    ----------
    coeff : ndarray, shape (C, C * p)
        Column ``i * p + (k - 1)``: effect of channel ``i`` at lag ``k`` (HyPyP's layout).
    residuals : ndarray
        ``signal - predict(signal)`` of the last fit.
    """

    def __init__(self, model_order, fitting_method="default", delta=0, *, bug_compat=False):
        if int(model_order) != model_order or model_order < 1:
            raise ValueError(f"mvar_order must be a positive integer; got {model_order!r}")
        self.order = int(model_order)
        self.fit_method = fitting_method
        self.delta = delta
        self.bug_compat = bug_compat
        self.coeff = np.asarray([])
        self.residuals = np.asarray([])

    def copy(self) -> MVAR:
        """A copy with the same order and coefficients."""
        out = self.__class__(self.order, self.fit_method, self.delta)
        out.coeff = self.coeff.copy()
        out.residuals = self.residuals.copy()
        return out

    def construct_equation(self, signal, delta_1=None):
        """Design matrix ``x`` (lagged samples) and targets ``y``, HyPyP's row order."""
        p = self.order
        n_ep, n_ch, n_s = signal.shape
        if n_s <= p:
            raise ValueError(
                f"epochs of {n_s} samples are too short for mvar_order={p}; use longer epochs "
                "or a lower order"
            )
        n = (n_s - p) * n_ep
        rows = n if delta_1 is None else n + n_ch * p
        x = np.zeros((rows, n_ch * p))
        for i in range(n_ch):
            for j in range(1, p + 1):
                x[:n, i * p + j - 1] = np.reshape(signal[:, i, p - j : n_s - j].T, n)
        if delta_1 is not None:
            np.fill_diagonal(x[n:, :], delta_1)
        y = np.zeros((rows, n_ch))
        y[:n] = np.moveaxis(signal[:, :, p:], 0, -1).reshape(n_ch, n).T
        return x, y

    def fit(self, signal) -> MVAR:
        """Fit to ``signal`` (n_epochs, n_channels, n_samples)."""
        import scipy.linalg

        method = self.fit_method
        if isinstance(method, str):
            if method.lower() != "default":
                raise ValueError(
                    "mvar_params['fitting_method'] must be 'default' or an object with "
                    f"fit(x, y) and coef; got {method!r}"
                )
            if self.delta == 0 or self.delta is None:
                x, y = self.construct_equation(signal)
            elif self.bug_compat:
                raise TypeError(
                    "construct_equation() takes from 2 to 3 positional arguments but 4 were "
                    "given (HyPyP 0.6.2 with delta != 0; bug_compat=True)"
                )
            else:
                x, y = self.construct_equation(signal, self.delta)
            coeff = scipy.linalg.lstsq(x, y)[0]
            self.coeff = coeff.transpose()
        else:
            x, y = self.construct_equation(signal)
            self.fitting = method.fit(x, y)
            self.coeff = self.fitting.coef
        self.residuals = signal - self.predict(signal)
        return self

    def predict(self, signal) -> np.ndarray:
        """One-step predictions (zero for the first ``p`` samples)."""
        n_ep, n_ch, n_s = signal.shape
        p = int(self.coeff.shape[1] / n_ch)
        predicted = np.zeros(signal.shape)
        for i in range(1, p + 1):
            bp = self.coeff[:, (i - 1) :: p]
            predicted[:, :, p:] += np.matmul(bp, signal[:, :, p - i : n_s - i])
        return predicted

    def stability(self) -> bool:
        """All eigenvalues of the companion matrix inside the unit circle."""
        n_ch, n_cols = self.coeff.shape
        p = n_cols // n_ch
        top = np.hstack([self.coeff[:, i::p] for i in range(p)])
        comp = np.zeros((n_ch * p, n_ch * p))
        comp[:n_ch] = top
        comp[n_ch:, : n_ch * (p - 1)] = np.eye(n_ch * (p - 1))
        return bool(np.all(np.abs(np.linalg.eigvals(comp)) < 1))


def _ica_unmixing(ica_input, method: str, random_state):
    if not isinstance(method, str):
        raise TypeError(f"ica_params['method'] must be a string; got {method!r}")
    if method.lower() in ("infomax_extended", "infomax"):
        from mne.preprocessing import infomax

        return infomax(
            ica_input,
            extended=method.lower() == "infomax_extended",
            random_state=random_state,
            verbose=False,
        )
    if method.lower() == "fastica":
        from sklearn.decomposition import FastICA

        return FastICA(random_state=random_state).fit(ica_input).components_
    raise ValueError(
        "This method is not defined!\nsupported methods: infomax, fastica, infomax_extended "
        f"(ica_params['method'] got {method!r})"
    )


def connectivity_mvarica(real_signal, ica_params, measure_name, n_fft, var_model):
    """MVARICA connectivity of one signal block (1, n_channels, n_samples).

    Parameters
    ----------
    real_signal : ndarray, shape (n_epochs, n_channels, n_samples)
        Real signals (HyPyP passes one epoch and band at a time).
    ica_params : dict
        ``{'method': 'infomax_extended'|'infomax'|'fastica', 'random_state': int|None}``.
    measure_name : 'PDC' | 'DTF' | 'mvar_spectral' | 'mvar_tf'
        Case-insensitive.
    n_fft : int
        Number of frequency points.
    var_model : MVAR
        The model (refitted here).

    Returns
    -------
    result : ndarray, shape (n_channels, n_channels, n_fft)
        Real for PDC / DTF, complex for ``mvar_spectral`` (``A``) and ``mvar_tf`` (``H``).
    """
    import scipy.fft
    import scipy.linalg

    name = str(measure_name).lower()
    if name not in MEASURES:
        raise ValueError(
            f"measure_params['name'] must be one of 'PDC', 'DTF', 'mvar_spectral', "
            f"'mvar_tf' (any case); got {measure_name!r}"
        )
    fit_var = var_model.fit(real_signal)
    res = real_signal - var_model.predict(real_signal)
    n_ep = res.shape[0]
    unmix = _ica_unmixing(
        np.concatenate(np.split(res, n_ep, 0), axis=2).squeeze(0).T,
        ica_params["method"],
        ica_params["random_state"],
    ).T
    mix = scipy.linalg.pinv(unmix)
    p = fit_var.order
    coeffs = fit_var.coeff.copy()
    for k in range(p):
        coeffs[:, k::p] = mix.dot(fit_var.coeff[:, k::p].transpose()).dot(unmix).transpose()
    n_ch = coeffs.shape[0]
    re_coeffs = np.reshape(coeffs, (n_ch, n_ch, p), "C")
    a = scipy.fft.fft(np.dstack([np.eye(n_ch), -re_coeffs]), n_fft * 2 - 1)[:, :, :n_fft]
    if name == "mvar_spectral":
        return a
    h = np.array([scipy.linalg.solve(af, np.eye(af.shape[0])) for af in a.T]).T
    if name == "mvar_tf":
        return h
    if name == "pdc":
        return np.abs(a / np.sqrt(np.sum(a.conj() * a, axis=0, keepdims=True)))
    return np.abs(h / np.sqrt(np.sum(h * h.conj(), axis=1, keepdims=True)))


def compute_conn_mvar(
    complex_signal,
    mvar_params: dict,
    ica_params: dict,
    measure_params: dict,
    check_stability: bool = True,
    *,
    on_unstable: str = "raise",
    bug_compat: bool = False,
) -> np.ndarray:
    """MVAR (MVARICA) directed connectivity per epoch and band (HyPyP's ``compute_conn_mvar``).

    Parameters
    ----------
    complex_signal : ndarray, shape (2, n_epochs, n_channels, n_freq, n_times)
        Analytic signals (:func:`~hyperalign.compat.hypyp.compute_freq_bands`); their real
        parts are modelled.
    mvar_params : dict
        ``{'mvar_order': int, 'fitting_method': 'default' | estimator, 'delta': float}``.
    ica_params : dict
        ``{'method': 'infomax_extended' | 'infomax' | 'fastica', 'random_state': int | None}``.
    measure_params : dict
        ``{'name': 'PDC' | 'DTF' | 'mvar_spectral' | 'mvar_tf', 'n_fft': int}``.
    check_stability : bool
        Fit the model on the first epoch and band first and check that it is stable. HyPyP
        then asks on the terminal (``input()``) whether to go on, or to merge the epochs when
        the model is unstable; here nothing is asked: a stable model goes on (HyPyP's "yes"),
        an unstable one follows ``on_unstable``.
    on_unstable : 'raise' | 'merge'
        ``'raise'`` (default): ValueError with the number of samples the model needs.
        ``'merge'``: concatenate the epochs in time (per band) and fit once, output shape
        ``(1, n_freq, 2C, 2C, n_fft)`` (HyPyP's merge reshapes the array in memory order, which
        interleaves epochs, bands and channels: a bug not reproduced).
    bug_compat : bool
        Reproduce HyPyP's TypeError for ``delta != 0`` (see :class:`MVAR`).

    Returns
    -------
    connectivity : ndarray, shape (n_epochs, n_freq, 2C, 2C, n_fft)
        PDC/DTF real; ``mvar_spectral``/``mvar_tf`` complex (their real part when
        ``check_stability``, as HyPyP).

    See Also
    --------
    connectivity_mvarica, MVAR
    """
    from ..utils import check_option
    from .hypyp import _check_5d

    check_option("on_unstable", on_unstable, ("raise", "merge"))
    cs = _check_5d(complex_signal)
    _, n_epoch, n_ch, n_freq, n_samp = cs.shape
    for key, d, keys in (
        ("mvar_params", mvar_params, ("mvar_order", "fitting_method", "delta")),
        ("ica_params", ica_params, ("method", "random_state")),
        ("measure_params", measure_params, ("name", "n_fft")),
    ):
        missing = [k for k in keys if k not in d]
        if missing:
            raise KeyError(f"{key} must have the keys {list(keys)}; missing {missing}")
    real = np.real(cs.transpose((1, 3, 0, 2, 4)).reshape(n_epoch, n_freq, 2 * n_ch, n_samp))
    mvar = MVAR(
        mvar_params["mvar_order"],
        mvar_params["fitting_method"],
        mvar_params["delta"],
        bug_compat=bug_compat,
    )
    if check_stability and not mvar.fit(real[:1, 0]).stability():
        need = mvar_params["mvar_order"] * (2 * n_ch) ** 2
        if on_unstable == "raise":
            raise ValueError(
                f"the MVAR model of order {mvar_params['mvar_order']} fitted on the first "
                f"epoch and band is not stable: epochs of {n_samp} samples are too short for "
                f"{2 * n_ch} channels (at least {need} samples are required); pass "
                "on_unstable='merge' to fit on the concatenated epochs, a lower mvar_order, "
                "or check_stability=False"
            )
        real = np.concatenate(list(real), axis=-1)[np.newaxis]  # (1, F, 2C, E*T)
        if not mvar.fit(real[:, 0]).stability():
            raise ValueError(
                "the MVAR model is not stable even on the concatenated epochs "
                f"({real.shape[-1]} samples); lower mvar_order"
            )
    n_fft = int(measure_params["n_fft"])
    out = None
    for e in range(real.shape[0]):
        for f in range(n_freq):
            conn = connectivity_mvarica(
                real[e : e + 1, f], ica_params, measure_params["name"], n_fft, mvar
            )
            if out is None:
                out = np.zeros((real.shape[0], n_freq) + conn.shape, dtype=conn.dtype)
            out[e, f] = np.real(conn) if check_stability else conn
    return out
