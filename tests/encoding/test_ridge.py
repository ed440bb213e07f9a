"""ridge_cv / nested_ridge_cv: equal to himalaya's RidgeCV, backends, bad input."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from hyperalign.encoding.ridge import SOLVERS, nested_ridge_cv, ridge_cv

himalaya = pytest.importorskip("himalaya")
torch = pytest.importorskip("torch")

ALPHAS = np.logspace(-2, 4, 12)
DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def _data(n=200, p=10, t=25, seed=0, offset=2.0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) + 0.5
    W = rng.standard_normal((p, t)) * rng.uniform(0, 0.6, t)
    Y = X @ W + rng.standard_normal((n, t)) + offset
    return X, Y


def _himalaya(X, Y, score, fit_intercept, cv=5):
    from himalaya.ridge import RidgeCV
    from himalaya.scoring import correlation_score, r2_score
    from sklearn.model_selection import KFold

    funcs = {"r": correlation_score, "r2": r2_score, "neg_mse": None}
    params = {} if funcs[score] is None else {"score_func": funcs[score]}
    from threadpoolctl import threadpool_limits

    with warnings.catch_warnings(), threadpool_limits(1):  # one BLAS thread: shared machine
        warnings.simplefilter("ignore")
        return RidgeCV(
            alphas=ALPHAS, cv=KFold(cv), fit_intercept=fit_intercept, solver_params=params
        ).fit(X, Y)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("score", ["r", "r2", "neg_mse"])
@pytest.mark.parametrize("shape", [(200, 10), (120, 300)], ids=["primal", "dual"])
def test_equals_himalaya_ridgecv(score, fit_intercept, shape):
    X, Y = _data(n=shape[0], p=shape[1])
    ref = _himalaya(X, Y, score, fit_intercept)
    fit = ridge_cv(
        X, Y, alphas=ALPHAS, cv=5, score=score, fit_intercept=fit_intercept, edge_warning=None
    )
    assert fit.solver == ("svd" if shape[0] > shape[1] else "eigh_dual")
    np.testing.assert_allclose(fit.best_alphas_, ref.best_alphas_, rtol=1e-6)
    # himalaya's cv_scores_ include its tie-break tilt log(alpha) * 1e-10
    ref_scores = ref.cv_scores_ - np.log(ref.best_alphas_) * 1e-10
    np.testing.assert_allclose(fit.best_scores_, ref_scores, rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(fit.coef_, ref.coef_, rtol=1e-6, atol=1e-12)
    if fit_intercept:
        np.testing.assert_allclose(fit.intercept_, ref.intercept_, rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(fit.predict(X), ref.predict(X), rtol=1e-6, atol=1e-10)


def test_scores_of_every_alpha_equal_direct_predictions():
    """The reduced-basis scores equal scores of explicit predictions for every penalty."""
    from hyperalign.encoding.scores import correlation_score, r2_score

    X, Y = _data(n=150, p=8, t=6)
    folds = [(np.r_[0:100], np.r_[100:150]), (np.r_[50:150], np.r_[0:50])]
    for score, func in (("r", correlation_score), ("r2", r2_score)):
        fit = ridge_cv(X, Y, alphas=ALPHAS, cv=folds, score=score, edge_warning=None)
        expect = np.zeros_like(fit.cv_scores_)
        for tr, te in folds:
            mx, my = X[tr].mean(0), Y[tr].mean(0)
            Xc, Yc = X[tr] - mx, Y[tr] - my
            for i, a in enumerate(ALPHAS):
                W = np.linalg.solve(Xc.T @ Xc + a * np.eye(X.shape[1]), Xc.T @ Yc)
                expect[i] += func(Y[te], (X[te] - mx) @ W + my) / len(folds)
        np.testing.assert_allclose(fit.cv_scores_, expect, rtol=1e-8, atol=1e-12)


def test_solver_registry_and_choice():
    assert set(SOLVERS) == {"svd", "eigh_dual"}
    X, Y = _data(n=100, p=20, t=4)
    a = ridge_cv(X, Y, alphas=ALPHAS, cv=4, solver="svd", edge_warning=None)
    b = ridge_cv(X, Y, alphas=ALPHAS, cv=4, solver="eigh_dual", edge_warning=None)
    np.testing.assert_allclose(a.cv_scores_, b.cv_scores_, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-7, atol=1e-12)


def test_target_batches_equal_one_batch():
    X, Y = _data(t=23)
    a = ridge_cv(X, Y, alphas=ALPHAS, cv=5, edge_warning=None)
    b = ridge_cv(X, Y, alphas=ALPHAS, cv=5, n_targets_batch=4, edge_warning=None)
    np.testing.assert_allclose(a.cv_scores_, b.cv_scores_, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("shape", [(200, 10), (80, 150)], ids=["primal", "dual"])
def test_torch_equals_numpy(device, shape):
    X, Y = _data(n=shape[0], p=shape[1], t=9)
    a = ridge_cv(X, Y, alphas=ALPHAS, cv=4, edge_warning=None)
    b = ridge_cv(X, Y, alphas=ALPHAS, cv=4, backend="torch", device=device, edge_warning=None)
    assert isinstance(b.coef_, np.ndarray) and isinstance(b.cv_scores_, np.ndarray)
    np.testing.assert_allclose(b.cv_scores_, a.cv_scores_, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(b.coef_, a.coef_, rtol=1e-7, atol=1e-10)
    c = nested_ridge_cv(
        X,
        Y,
        alphas=ALPHAS,
        outer_cv=4,
        inner_cv=3,
        backend="torch",
        device=device,
        edge_warning=None,
    )
    d = nested_ridge_cv(X, Y, alphas=ALPHAS, outer_cv=4, inner_cv=3, edge_warning=None)
    np.testing.assert_allclose(c.predictions_, d.predictions_, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_float32_close_to_float64(backend):
    X, Y = _data(t=9)
    a = ridge_cv(X, Y, alphas=ALPHAS, cv=5, edge_warning=None)
    b = ridge_cv(X, Y, alphas=ALPHAS, cv=5, dtype="float32", backend=backend, edge_warning=None)
    assert b.coef_.dtype == np.float64  # results come back as float64 NumPy
    np.testing.assert_allclose(b.cv_scores_, a.cv_scores_, atol=1e-4)
    np.testing.assert_allclose(b.coef_, a.coef_, atol=1e-4)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU visible to torch")
def test_torch_cuda_backend_name():
    X, Y = _data(t=5)
    a = ridge_cv(X, Y, alphas=ALPHAS, cv=5, edge_warning=None)
    b = ridge_cv(X, Y, alphas=ALPHAS, cv=5, backend="torch_cuda", edge_warning=None)
    np.testing.assert_allclose(b.coef_, a.coef_, rtol=1e-7, atol=1e-10)


def test_nested_equals_manual_loop():
    X, Y = _data(n=160, t=7)
    outer = [(np.r_[40:160], np.r_[0:40]), (np.r_[0:120], np.r_[120:160])]
    fit = nested_ridge_cv(
        X, Y, alphas=ALPHAS, outer_cv=outer, inner_cv=3, return_coefs=True, score="r2"
    )
    assert np.isnan(fit.predictions_[40:120]).all()  # rows in no outer test fold
    for i, (tr, te) in enumerate(outer):
        inner = ridge_cv(X[tr], Y[tr], alphas=ALPHAS, cv=3, score="r2", edge_warning=None)
        np.testing.assert_allclose(fit.best_alphas_[i], inner.best_alphas_)
        np.testing.assert_allclose(fit.coefs_[i], inner.coef_, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(fit.predictions_[te], inner.predict(X[te]), rtol=1e-10)
        yt, yp = Y[te], inner.predict(X[te])
        r2 = 1 - ((yt - yp) ** 2).sum(0) / ((yt - yt.mean(0)) ** 2).sum(0)
        np.testing.assert_allclose(fit.fold_scores_[i], r2, rtol=1e-10)
    df = fit.to_data_frame()
    assert list(df.columns) == ["fold", "target", "score", "alpha", "n_test"]
    assert len(df) == 2 * 7


def test_nested_inner_callable_and_splitter():
    from sklearn.model_selection import KFold

    X, Y = _data(n=120, t=3)
    seen = []

    def inner(train_idx):
        seen.append(train_idx.copy())
        half = train_idx.size // 2
        return [(train_idx[:half], train_idx[half:]), (train_idx[half:], train_idx[:half])]

    a = nested_ridge_cv(X, Y, alphas=ALPHAS, outer_cv=KFold(3), inner_cv=inner, edge_warning=None)
    assert len(seen) == 3 and all(
        np.intersect1d(s, te).size == 0 for s, (_, te) in zip(seen, a.folds_)
    )
    b = nested_ridge_cv(X, Y, alphas=ALPHAS, outer_cv=3, inner_cv=KFold(2), edge_warning=None)
    np.testing.assert_allclose(a.predictions_, b.predictions_, rtol=1e-10)

    def bad(train_idx):
        return [(train_idx, np.array([train_idx.max() + 1000]))]

    with pytest.raises(ValueError, match="not in the outer training rows"):
        nested_ridge_cv(X, Y, alphas=ALPHAS, outer_cv=3, inner_cv=bad)


def test_edge_warning_names_share():
    X, Y = _data(t=10)
    with pytest.warns(
        UserWarning,
        match=r"\d+% of targets chose the largest penalty of the grid \(more than edge_warning",
    ):
        ridge_cv(X, Y, alphas=[1e-6, 1e-5], cv=5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ridge_cv(X, Y, alphas=[1e-6, 1e-5], cv=5, edge_warning=None)


def test_bad_input_messages():
    X, Y = _data(n=40, t=3)
    Xn = X.copy()
    Xn[[3, 7], 2] = np.nan
    with pytest.raises(ValueError, match=r"X has NaN or inf in 2 row\(s\) \(first: 3, 7\)"):
        ridge_cv(Xn, Y, alphas=ALPHAS, cv=5)
    Yn = Y.copy()
    Yn[5, 1] = np.inf
    with pytest.raises(ValueError, match=r"Y has NaN or inf .*first: 5.*never impute"):
        ridge_cv(X, Yn, alphas=ALPHAS, cv=5)
    with pytest.raises(ValueError, match="alphas must be finite and > 0"):
        ridge_cv(X, Y, alphas=[0.0, 1.0], cv=5)
    with pytest.raises(ValueError, match="alphas has repeated values"):
        ridge_cv(X, Y, alphas=[1.0, 1.0], cv=5)
    with pytest.raises(ValueError, match=r"too few samples for the folds: cv=30"):
        ridge_cv(X, Y, alphas=ALPHAS, cv=30)
    with pytest.raises(ValueError, match="Y has 39 rows but X has 40"):
        ridge_cv(X, Y[:-1], alphas=ALPHAS, cv=5)
    with pytest.raises(ValueError, match="score must be one of"):
        ridge_cv(X, Y, alphas=ALPHAS, cv=5, score="auc")
    with pytest.raises(ValueError, match="backend must be one of"):
        ridge_cv(X, Y, alphas=ALPHAS, cv=5, backend="jax")
    with pytest.raises(ValueError, match="device='cuda' needs a torch backend"):
        ridge_cv(X, Y, alphas=ALPHAS, cv=5, device="cuda")
    leak = [(np.arange(0, 30), np.arange(25, 40))]
    with pytest.raises(ValueError, match=r"5 row\(s\) in both train and test.*leaks"):
        ridge_cv(X, Y, alphas=ALPHAS, cv=leak)
    with pytest.raises(ValueError, match="empty test set"):
        ridge_cv(X, Y, alphas=ALPHAS, cv=[(np.arange(40), np.array([], int))])
    with pytest.raises(ValueError, match=r"indices must lie in \[0, 40\)"):
        ridge_cv(X, Y, alphas=ALPHAS, cv=[(np.arange(30), np.arange(30, 45))])
    with pytest.raises(ValueError, match="X must be a 2-D array"):
        ridge_cv(X[:, 0], Y, alphas=ALPHAS, cv=5)


def test_constant_and_duplicated_features_warn():
    X, Y = _data(n=60, p=5, t=2)
    Xc = X.copy()
    Xc[:, 3] = 1.0
    with pytest.warns(UserWarning, match=r"X has 1 constant column\(s\) \(first: 3\)"):
        fit = ridge_cv(Xc, Y, alphas=ALPHAS, cv=3, edge_warning=None)
    np.testing.assert_allclose(fit.coef_[3], 0, atol=1e-12)
    Xd = np.column_stack([X, X[:, 1]])
    with pytest.warns(
        UserWarning, match=r"duplicated columns \(first of each duplicate group: 1\)"
    ):
        ridge_cv(Xd, Y, alphas=ALPHAS, cv=3, edge_warning=None)


def test_constant_target_scores_zero():
    X, Y = _data(n=60, t=3)
    Y[:, 1] = 4.0
    fit = ridge_cv(X, Y, alphas=ALPHAS, cv=3, edge_warning=None)
    np.testing.assert_array_equal(fit.cv_scores_[:, 1], 0.0)
    df = fit.to_data_frame()
    assert list(df.columns) == ["target", "alpha", "cv_score", "score"]


def test_purge_gap_folds_equal_explicit_fits():
    """Rows in neither train nor test (purge gaps) are left out of the training sums."""
    from hyperalign.encoding.scores import correlation_score

    X, Y = _data(n=150, p=6, t=5)
    folds = [(np.r_[0:80], np.r_[100:150]), (np.r_[60:150], np.r_[0:40])]
    fit = ridge_cv(X, Y, alphas=ALPHAS, cv=folds, edge_warning=None)
    expect = np.zeros_like(fit.cv_scores_)
    for tr, te in folds:
        mx, my = X[tr].mean(0), Y[tr].mean(0)
        Xc, Yc = X[tr] - mx, Y[tr] - my
        for i, a in enumerate(ALPHAS):
            W = np.linalg.solve(Xc.T @ Xc + a * np.eye(6), Xc.T @ Yc)
            expect[i] += correlation_score(Y[te], (X[te] - mx) @ W) / 2
    np.testing.assert_allclose(fit.cv_scores_, expect, rtol=1e-8, atol=1e-12)


def test_tasks_one_at_a_time_equal_all_at_once():
    from hyperalign.encoding._ridge_engine import Task, run_tasks
    from hyperalign.encoding._solvers_backend import Backend

    X, Y = _data(n=120, t=4)
    tasks = [
        Task(pool=np.r_[0:80], folds=[(np.r_[0:40], np.r_[40:80]), (np.r_[40:80], np.r_[0:40])],
             test=np.r_[80:120]),
        Task(pool=np.r_[40:120], folds=[(np.r_[40:80], np.r_[80:120])], test=np.r_[0:40]),
    ]  # fmt: skip
    kw = dict(fit_intercept=True, score="r", solver="auto", n_batch=None)
    a = run_tasks(Backend(), X, Y, tasks, ALPHAS, **kw)
    b = run_tasks(Backend(), X, Y, tasks, ALPHAS, prep_budget=0, **kw)
    for ra, rb in zip(a, b):
        np.testing.assert_allclose(ra.predictions, rb.predictions, rtol=1e-12)
        np.testing.assert_allclose(ra.best_alphas, rb.best_alphas)


def test_float32_with_large_offsets():
    """Global centring keeps float32 sums well conditioned when the data sit far from 0."""
    X, Y = _data(t=6, offset=1e4)
    a = ridge_cv(X + 100, Y, alphas=ALPHAS, cv=5, edge_warning=None)
    b = ridge_cv(X + 100, Y, alphas=ALPHAS, cv=5, dtype="float32", edge_warning=None, n_jobs=-1)
    np.testing.assert_allclose(b.cv_scores_, a.cv_scores_, atol=1e-3)
    np.testing.assert_allclose(b.predict(X + 100), a.predict(X + 100), rtol=1e-5)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message when no GPU is visible")
def test_torch_cuda_without_gpu_names_the_fix():
    X, Y = _data(n=40, t=2)
    with pytest.raises(RuntimeError, match="torch sees no CUDA GPU.*pass device='cpu'"):
        ridge_cv(X, Y, alphas=ALPHAS, cv=5, backend="torch_cuda")


def test_ill_conditioned_features_equal_himalaya():
    """Near-collinear features and tiny penalties: small singular directions are kept."""
    rng = np.random.default_rng(0)
    base = rng.standard_normal((300, 5))
    mix = base[:, :3] @ rng.standard_normal((3, 4)) + 1e-5 * rng.standard_normal((300, 4))
    X = np.column_stack([base, mix])
    Y = X @ rng.standard_normal((9, 5)) + rng.standard_normal((300, 5))
    alphas = np.logspace(-6, 2, 9)
    from himalaya.ridge import RidgeCV
    from sklearn.model_selection import KFold

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = RidgeCV(alphas=alphas, cv=KFold(5), fit_intercept=True).fit(X, Y)
    fit = ridge_cv(X, Y, alphas=alphas, cv=5, score="neg_mse", edge_warning=None)
    np.testing.assert_allclose(fit.best_alphas_, ref.best_alphas_)
    np.testing.assert_allclose(
        fit.coef_, ref.coef_, rtol=1e-6, atol=1e-8 * np.abs(ref.coef_).max()
    )


def test_memory_bounded_by_target_batches():
    """Working memory beyond the inputs and outputs does not grow with the number of targets."""
    import tracemalloc

    rng = np.random.default_rng(3)
    X = rng.standard_normal((300, 10))

    def extra(n_targets):
        Y = rng.standard_normal((300, n_targets))
        tracemalloc.start()
        fit = ridge_cv(X, Y, alphas=ALPHAS, cv=4, n_targets_batch=200, edge_warning=None)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        outputs = fit.cv_scores_.nbytes + fit.coef_.nbytes + 8 * fit.best_alphas_.nbytes
        return peak - outputs

    small, large = extra(800), extra(3200)
    assert large < 1.3 * small + 2**20, (small, large)
