"""banded_ridge_cv / nested_banded_ridge_cv: equal to himalaya's random search, bad input."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from hyperalign.encoding.banded import (
    banded_ridge_cv,
    dirichlet_candidates,
    nested_banded_ridge_cv,
)

pytest.importorskip("himalaya")
torch = pytest.importorskip("torch")

ALPHAS = np.logspace(-2, 4, 9)


def _spaces(n=240, t=10, seed=1):
    rng = np.random.default_rng(seed)
    Xs = [rng.standard_normal((n, 6)), rng.standard_normal((n, 4)), rng.standard_normal((n, 3))]
    Y = (
        Xs[0] @ rng.standard_normal((6, t))
        + 0.3 * Xs[1] @ rng.standard_normal((4, t))
        + rng.standard_normal((n, t))
        + 1.5
    )
    return Xs, Y


def test_candidates_like_himalaya_dirichlet():
    from himalaya.kernel_ridge import generate_dirichlet_samples

    ref = generate_dirichlet_samples(11, 3, concentration=[0.1, 1.0], random_state=3)
    ours = dirichlet_candidates(11, 3, random_state=3)
    assert ours.shape == ref.shape
    np.testing.assert_allclose(ours[0], 1 / 3)
    np.testing.assert_allclose(ours.sum(1), 1.0)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("score", ["r", "neg_mse"])
def test_equals_himalaya_group_ridge_random_search(score, fit_intercept):
    from himalaya.ridge import solve_group_ridge_random_search
    from himalaya.scoring import correlation_score, l2_neg_loss
    from sklearn.model_selection import KFold

    Xs, Y = _spaces()
    gammas = dirichlet_candidates(8, 3, random_state=0)
    func = {"r": correlation_score, "neg_mse": l2_neg_loss}[score]
    from threadpoolctl import threadpool_limits

    with warnings.catch_warnings(), threadpool_limits(1):
        warnings.simplefilter("ignore")
        deltas, w, cvs, *icpt = solve_group_ridge_random_search(
            Xs,
            Y,
            n_iter=gammas,
            alphas=ALPHAS,
            fit_intercept=fit_intercept,
            score_func=func,
            cv=KFold(5),
            return_weights=True,
            progress_bar=False,
        )
    fit = banded_ridge_cv(
        Xs,
        Y,
        alphas=ALPHAS,
        cv=5,
        n_iter=gammas,
        fit_intercept=fit_intercept,
        score=score,
        space_names=["sem", "ac", "nuis"],
    )
    np.testing.assert_allclose(fit.space_alphas_, np.exp(-deltas), rtol=1e-6)
    np.testing.assert_allclose(np.concatenate(fit.coef_), w, rtol=1e-6, atol=1e-12)
    # himalaya's scores include its tie-break tilt log(alpha) * 1e-10
    np.testing.assert_allclose(fit.candidate_scores_, cvs, rtol=1e-6, atol=1e-8)
    if fit_intercept:
        np.testing.assert_allclose(fit.intercept_, icpt[0], rtol=1e-6, atol=1e-12)
    X = np.concatenate(Xs, 1)
    np.testing.assert_allclose(fit.predict(Xs), X @ w + (icpt[0] if icpt else 0), rtol=1e-6)
    np.testing.assert_allclose(
        fit.predict_split(Xs).sum(0) + fit.y_offset_, fit.predict(Xs), rtol=1e-10, atol=1e-10
    )
    df = fit.to_data_frame()
    assert set(df["space"]) == {"sem", "ac", "nuis"} and len(df) == 3 * Y.shape[1]


def test_equals_ridge_at_uniform_gamma():
    """One uniform candidate is a plain ridge on all features (penalty alpha * n_spaces)."""
    from hyperalign.encoding.ridge import ridge_cv

    Xs, Y = _spaces(t=5)
    fit = banded_ridge_cv(Xs, Y, alphas=ALPHAS, cv=4, n_iter=1)
    ref = ridge_cv(np.concatenate(Xs, 1), Y, alphas=ALPHAS * 3, cv=4, edge_warning=None)
    np.testing.assert_allclose(fit.space_alphas_, np.tile(ref.best_alphas_, (3, 1)))
    np.testing.assert_allclose(np.concatenate(fit.coef_), ref.coef_, rtol=1e-8, atol=1e-12)


def test_recovers_irrelevant_space():
    """A space that does not drive the targets gets a larger penalty than the one that does."""
    Xs, Y = _spaces(n=400, t=6)
    fit = banded_ridge_cv(Xs, Y, alphas=np.logspace(-1, 5, 13), cv=5, n_iter=30, random_state=0)
    assert np.median(fit.space_alphas_[2] / fit.space_alphas_[0]) > 10


def test_nested_banded():
    Xs, Y = _spaces(n=200, t=4)
    fit = nested_banded_ridge_cv(
        Xs, Y, alphas=ALPHAS, outer_cv=4, inner_cv=3, n_iter=4, random_state=0, score="r"
    )
    assert fit.split_predictions_.shape == (3, 200, 4)
    assert fit.space_alphas_.shape == (4, 3, 4)
    assert np.all(fit.fold_scores_ > 0.3)
    for tr, te in fit.folds_:
        one = banded_ridge_cv(
            [X[tr] for X in Xs], Y[tr], alphas=ALPHAS, cv=3, n_iter=4, random_state=0
        )
        np.testing.assert_allclose(fit.predictions_[te], one.predict([X[te] for X in Xs]))
        np.testing.assert_allclose(
            fit.split_predictions_[:, te].sum(0) + one.y_offset_, fit.predictions_[te]
        )
    assert list(fit.to_data_frame().columns) == [
        "fold",
        "target",
        "score",
        "alpha_space0",
        "alpha_space1",
        "alpha_space2",
    ]


def test_torch_equals_numpy():
    Xs, Y = _spaces(t=4)
    a = banded_ridge_cv(Xs, Y, alphas=ALPHAS, cv=4, n_iter=5, random_state=1)
    b = banded_ridge_cv(
        Xs, Y, alphas=ALPHAS, cv=4, n_iter=5, random_state=1, backend="torch", device="cpu"
    )
    np.testing.assert_allclose(b.space_alphas_, a.space_alphas_)
    np.testing.assert_allclose(b.cv_scores_, a.cv_scores_, rtol=1e-8)


def test_bad_input_messages():
    Xs, Y = _spaces(n=60, t=2)
    with pytest.raises(TypeError, match="Xs must be a list of feature arrays"):
        banded_ridge_cv(Xs[0], Y, alphas=ALPHAS, cv=3)
    with pytest.raises(ValueError, match=r"Xs\['space1'\] has 50 rows but Xs\['space0'\] has 60"):
        banded_ridge_cv([Xs[0], Xs[1][:50]], Y, alphas=ALPHAS, cv=3)
    with pytest.raises(ValueError, match="space_names must give 3 distinct names"):
        banded_ridge_cv(Xs, Y, alphas=ALPHAS, cv=3, space_names=["a", "a", "b"])
    bad = [X.copy() for X in Xs]
    bad[1][4, 0] = np.nan
    with pytest.raises(
        ValueError, match=r"Xs\['space1'\] has NaN or inf in 1 row\(s\) \(first: 4"
    ):
        banded_ridge_cv(bad, Y, alphas=ALPHAS, cv=3)
    with pytest.raises(ValueError, match=r"n_iter must be an int or an array \(n_candidates, 3\)"):
        banded_ridge_cv(Xs, Y, alphas=ALPHAS, cv=3, n_iter=np.ones((4, 2)))
    with pytest.raises(ValueError, match="method must be one of"):
        banded_ridge_cv(Xs, Y, alphas=ALPHAS, cv=3, method="hyper_gradient")
    with pytest.raises(ValueError, match="alphas must be finite and > 0"):
        banded_ridge_cv(Xs, Y, alphas=[-1.0], cv=3)
    fit = banded_ridge_cv(Xs, Y, alphas=ALPHAS, cv=3, n_iter=2, random_state=0)
    with pytest.raises(ValueError, match="Xs must be a list of 3 feature arrays"):
        fit.predict(Xs[:2])


def test_equals_himalaya_banded_ridge_cv_estimator():
    from himalaya.ridge import BandedRidgeCV
    from himalaya.scoring import r2_score
    from sklearn.model_selection import KFold
    from threadpoolctl import threadpool_limits

    Xs, Y = _spaces(t=6)
    gammas = dirichlet_candidates(6, 3, random_state=2)
    params = dict(n_iter=gammas, alphas=ALPHAS, score_func=r2_score, progress_bar=False)
    with warnings.catch_warnings(), threadpool_limits(1):
        warnings.simplefilter("ignore")
        ref = BandedRidgeCV(
            groups="input", solver_params=params, cv=KFold(4), fit_intercept=True
        ).fit(Xs, Y)
    fit = banded_ridge_cv(Xs, Y, alphas=ALPHAS, cv=4, n_iter=gammas, score="r2")
    np.testing.assert_allclose(fit.space_alphas_, np.exp(-ref.deltas_), rtol=1e-6)
    np.testing.assert_allclose(fit.best_alphas_, ref.best_alphas_, rtol=1e-6)
    np.testing.assert_allclose(fit.predict(Xs), ref.predict(Xs), rtol=1e-6, atol=1e-10)


def test_target_batches_and_dual_path_equal():
    """Batches (decompositions cached across them) and the dual path give the same search."""
    Xs, Y = _spaces(n=120, t=7)
    a = banded_ridge_cv(Xs, Y, alphas=ALPHAS, cv=4, n_iter=5, random_state=0)
    b = banded_ridge_cv(Xs, Y, alphas=ALPHAS, cv=4, n_iter=5, random_state=0, n_targets_batch=3)
    np.testing.assert_allclose(b.candidate_scores_, a.candidate_scores_, rtol=1e-12)
    np.testing.assert_allclose(b.space_alphas_, a.space_alphas_)
    wide = [np.repeat(X, 12, axis=1) + 0.01 * np.arange(X.shape[1] * 12) for X in Xs]
    c = banded_ridge_cv(wide, Y, alphas=ALPHAS, cv=4, n_iter=3, random_state=0)  # dual
    d = banded_ridge_cv(
        [X[:, ::1] for X in wide], Y, alphas=ALPHAS, cv=4, n_iter=3, random_state=0,
        n_targets_batch=2,
    )  # fmt: skip
    np.testing.assert_allclose(d.candidate_scores_, c.candidate_scores_, rtol=1e-8)
