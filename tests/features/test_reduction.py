"""Fold-wise PCA: the test fold never influences the components."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.decomposition import PCA
from sklearn.linear_model import Ridge
from sklearn.model_selection import GroupKFold, KFold, cross_val_predict
from sklearn.pipeline import make_pipeline

from hyperalign.features import FoldPCA, cross_validated_reduction
from hyperalign.features import reduction as red_mod


@pytest.fixture
def X():
    rng = np.random.default_rng(0)
    return rng.standard_normal((60, 8)) @ rng.standard_normal((8, 20))


def test_foldpca_matches_sklearn_pca(X):
    mine = FoldPCA(5).fit(X)
    ref = PCA(5, svd_solver="full").fit(X)
    np.testing.assert_allclose(np.abs(mine.components_), np.abs(ref.components_), atol=1e-8)
    np.testing.assert_allclose(mine.explained_variance_, ref.explained_variance_, rtol=1e-8)
    z, zr = mine.transform(X), ref.transform(X)
    np.testing.assert_allclose(np.abs(z), np.abs(zr), atol=1e-8)
    ratio = PCA(svd_solver="full").fit(X).explained_variance_ratio_
    assert FoldPCA(0.9).fit(X).n_components_ == np.searchsorted(np.cumsum(ratio), 0.9) + 1


def test_no_leak_test_fold_never_influences_components(X):
    folds = list(KFold(5).split(X))
    out_a = list(cross_validated_reduction(X, folds, n_components=4))
    for k, (train, test) in enumerate(folds):
        X2 = X.copy()
        X2[test] = np.random.default_rng(k).standard_normal(X2[test].shape) * 100  # wild test rows
        out_b = list(cross_validated_reduction(X2, folds, n_components=4))
        # this fold's training projection is unchanged and the components are the train fit
        np.testing.assert_allclose(out_b[k][2], out_a[k][2], atol=1e-10)
        ref = FoldPCA(4).fit(X[train])
        np.testing.assert_allclose(out_b[k][3], ref.transform(X2[test]), atol=1e-10)


def test_pipeline_refits_per_fold(X, monkeypatch):
    y = X[:, 0] + np.random.default_rng(1).standard_normal(len(X)) * 0.1
    seen = []
    orig = FoldPCA.fit

    def spy(self, Xf, yf=None):
        seen.append(len(Xf))
        return orig(self, Xf, yf)

    monkeypatch.setattr(FoldPCA, "fit", spy)
    pred = cross_val_predict(make_pipeline(FoldPCA(5), Ridge(1.0)), X, y, cv=KFold(4))
    assert pred.shape == y.shape
    assert seen == [45, 45, 45, 45]  # fitted on the training rows only, never on all 60


def test_groups_and_errors(X):
    groups = np.repeat(np.arange(6), 10)
    for train, test, ztr, zte in cross_validated_reduction(X, GroupKFold(3), 3, groups=groups):
        assert not set(groups[train]) & set(groups[test])
        assert ztr.shape == (len(train), 3) and zte.shape == (len(test), 3)
    with pytest.raises(ValueError, match="share rows"):
        list(cross_validated_reduction(X, [(np.arange(10), np.arange(5, 15))], 2))
    with pytest.raises(ValueError, match="n_components must be"):
        FoldPCA(100).fit(X)
    with pytest.raises(ValueError, match="features"):
        FoldPCA(2).fit(X).transform(X[:, :5])


def test_no_public_fit_all_and_reduce():
    public = [n for n in dir(red_mod) if not n.startswith("_")]
    assert set(red_mod.__all__) == {"FoldPCA", "cross_validated_reduction"}
    assert "reduce_embeddings" not in public and "fit_transform_all" not in public
