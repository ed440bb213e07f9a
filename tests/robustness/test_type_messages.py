"""A wrong type is a TypeError naming the parameter, what is allowed and the value received.

One case per check that goes through ``_validate_type`` (issue #11) and no other test covers;
each runs before any model or data is loaded.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


def _pseudo(small_dyad):
    from hyperalign.coupling.surrogates import make_pseudo_dyads

    make_pseudo_dyads([small_dyad, "d02"])


def _fit_mixed(small_dyad):
    from hyperalign.stats import fit_mixed

    fit_mixed({"sync": [1.0]}, "sync ~ 1")


def _terms(small_dyad):
    from hyperalign.stats._checks import as_terms

    as_terms(["acoustic", 3], "semantic")


def _by(small_dyad):
    from hyperalign.stats.analysis import _check_by

    _check_by(pd.DataFrame({"band": ["theta"]}), ["band", 3])


def _jobqueue(small_dyad):
    from hyperalign.pipeline.dask import jobqueue_script

    jobqueue_script(None)


def _contextual(small_dyad):
    from hyperalign.features import compute_layer_embeddings

    compute_layer_embeddings(["so", "how"], "all-MiniLM-L6-v2", cache=False)


def _shuffle(small_dyad):
    from hyperalign.features import shuffle_word_embeddings

    shuffle_word_embeddings(np.zeros((3, 4)))


def _model(small_dyad):
    from hyperalign.features.semantic import resolve_model

    resolve_model(384)


def _b2b(small_dyad):
    from hyperalign.encoding import b2b_group_test

    b2b_group_test([{"r": 0.1}])


def _encoding_result(small_dyad):
    from hyperalign.encoding import EncodingResult

    EncodingResult({"r": np.zeros(3)})


def _coupling(small_dyad):
    from hyperalign.coupling import Coupling

    Coupling(np.zeros((1, 1, 1, 1, 2, 2)))


def _epochs(small_dyad):
    from hyperalign.coupling import compute_dyad_sync

    compute_dyad_sync(small_dyad, "plv", {"theta": (4.0, 8.0)}, epochs=3)


def _metric(small_dyad):
    from hyperalign.coupling._kernels import resolve_metric

    resolve_metric(3)


def _bids(small_dyad, tmp_path):
    from hyperalign.io import write_bids_dyads

    write_bids_dyads([small_dyad, "d02"], tmp_path)


CASES = {
    "make_pseudo_dyads": (_pseudo, r"dyads\[1\] must be a Dyad; got 'd02' \(str\)"),
    "fit_mixed": (_fit_mixed, r"table must be a pandas DataFrame; got \{'sync': \[1.0\]\} \(dict"),
    "as_terms": (_terms, r"semantic\[1\] must be a column name \(str\); got 3 \(int\)"),
    "by": (_by, r"by\[1\] must be a column name \(str\); got 3 \(int\)"),
    "jobqueue_script": (
        _jobqueue,
        r"spec must be a dask-jobqueue mapping \(\{cluster: slurm, \.\.\.\}\); got None",
    ),
    "compute_layer_embeddings": (
        _contextual,
        r"transcript must be a Transcript or a word DataFrame; got \['so', 'how'\] \(list\)",
    ),
    "shuffle_word_embeddings": (
        _shuffle,
        r"embeddings must be a LayerEmbeddings; got array\(\[\[0\., .*\(ndarray\)",
    ),
    "resolve_model": (_model, r"model must be a model name or a path .*; got 384 \(int\)"),
    "b2b_group_test": (_b2b, r"results\[0\] must be a B2BCoupling; got \{'r': 0.1\} \(dict\)"),
    "EncodingResult": (_encoding_result, r"data must be an xarray.Dataset; got .*\(dict\)"),
    "Coupling": (_coupling, r"data must be an xarray.DataArray; got .*\(ndarray\)"),
    "compute_dyad_sync(epochs=)": (
        _epochs,
        r"epochs must be 'utterances', 'turns', 'fixed' or a pair \(mne.Epochs, mne.Epochs\); "
        r"got 3 \(int\)",
    ),
    "resolve_metric": (_metric, r"a metric name must be a str; got 3 \(int\)"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_type_error_names_parameter_and_value(case, small_dyad):
    func, match = CASES[case]
    with pytest.raises(TypeError, match=match):
        func(small_dyad)


def test_write_bids_dyads_types(small_dyad, tmp_path):
    with pytest.raises(TypeError, match=r"dyads\[1\] must be a Dyad; got 'd02' \(str\)"):
        _bids(small_dyad, tmp_path)
    with pytest.raises(TypeError, match=r"dyads must be a non-empty sequence of Dyad"):
        from hyperalign.io import write_bids_dyads

        write_bids_dyads([], tmp_path)
    assert not any(tmp_path.iterdir())  # refused before writing anything
