"""The one-study unit of the simulation validation (``hyperalign.stats._simstudy``)."""

import warnings

import numpy as np
import pytest

from hyperalign.stats import _simstudy


def test_old_module_is_a_deprecated_alias():
    """``hyperalign.stats.validation`` still gives the functions, with a DeprecationWarning."""
    from hyperalign.stats import validation

    with pytest.warns(DeprecationWarning, match="benchmarks/validation_study.py"):
        f = validation.run_validation_study_safe
    assert f is _simstudy.run_validation_study_safe
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        validation.nope  # noqa: B018


def test_failed_study_is_a_row():
    """A study that cannot run becomes a row naming the error, results NaN."""
    row = _simstudy.run_validation_study_safe(3, "null", n_dyads=-1)
    assert row["error"].startswith("ValueError: n_dyads must be a positive integer")
    assert row["seed"] == 3 and row["condition"] == "null"
    assert np.isnan(row["p_lrt"]) and np.isnan(row["naive_p_perm"])


@pytest.mark.slow
def test_study_records_its_warnings():
    """Warnings of a study are in its row, none escapes and no filter is changed."""
    filters = list(warnings.filters)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        row = _simstudy.run_validation_study(1, "power", n_dyads=3, duration=60.0,
                                             n_permutations=0)  # fmt: skip
    assert warnings.filters == filters
    assert row["n_warnings"] >= 1
    assert "only 3 dyad groups" in row["warnings"]
    assert np.isfinite(row["p_lrt"]) and np.isnan(row["p_perm"])
