"""The MNE-style conventions: docdict/fill_doc, @verbose, _validate_type, check_n_jobs."""

import logging

import numpy as np
import pandas as pd
import pytest

from hyperalign.utils import (
    _validate_type,
    check_n_jobs,
    docdict,
    fill_doc,
    logger,
    verbose,
)


def test_fill_doc_indents_and_rejects_unknown():
    @fill_doc
    def f(verbose=None):
        """Do it.

        Parameters
        ----------
        %(verbose)s
        """

    assert "Control verbosity" in f.__doc__
    assert "        verbose : bool" in f.__doc__
    assert all(k for k in docdict)
    with pytest.raises(KeyError, match="unknown docdict entry 'nope'"):

        @fill_doc
        def g():
            """%(nope)s"""


def test_verbose_decorator_sets_level_for_the_call_only():
    seen = []

    @verbose
    def f(x, verbose=None):
        seen.append(logger.getEffectiveLevel())
        return x

    old = logger.getEffectiveLevel()
    assert f(1, verbose="debug") == 1
    assert f(2, True) == 2
    assert f(3) == 3
    assert seen == [logging.DEBUG, logging.INFO, old]
    assert logger.getEffectiveLevel() == old
    assert f.__name__ == "f"
    with pytest.raises(TypeError, match="needs a 'verbose' parameter"):

        @verbose
        def g(x):
            return x


def test_validate_type_messages():
    assert _validate_type(3, "int-like", "n") == 3
    assert _validate_type(np.int64(3), "int-like", "n") == 3
    for bad in (True, 1.5, "100"):
        with pytest.raises(TypeError, match=r"n_permutations must be an int; got"):
            _validate_type(bad, "int-like", "n_permutations")
    with pytest.raises(TypeError, match=r"x must be str or None; got 3 \(int\)"):
        _validate_type(3, (str, None), "x")
    assert _validate_type(None, (str, None), "x") is None
    assert _validate_type(2.5, "numeric", "x") == 2.5
    with pytest.raises(TypeError, match="a number"):
        _validate_type(False, "numeric", "x")


def test_validate_type_long_values_are_shortened():
    """A big value given in place of another type is shown on one line, cut to 80 chars."""
    big = pd.DataFrame({"sync": np.arange(100.0), "dyad": ["d01"] * 100})
    with pytest.raises(TypeError, match=r"x must be a dict; got .*\.\.\. \(DataFrame\)$") as e:
        _validate_type(big, dict, "x", "a dict")
    got = str(e.value).split("; got ", 1)[1]
    assert "\n" not in got and len(got) <= 80 + len(" (DataFrame)")
    with pytest.raises(TypeError, match=r"got \{'llf': 1.0\} \(dict\)$"):
        _validate_type({"llf": 1.0}, int, "x")  # short values unchanged


def test_check_n_jobs():
    assert check_n_jobs(None) == 1
    assert check_n_jobs(1) == 1
    assert check_n_jobs(-1) >= 1
    assert check_n_jobs(10_000) == check_n_jobs(-1)
    with pytest.raises(ValueError, match="nonzero"):
        check_n_jobs(0)
    with pytest.raises(TypeError, match="n_jobs must be an int"):
        check_n_jobs(1.5)


def test_renamed_params_warns_maps_and_refuses_both():
    """An old keyword works for one release with a FutureWarning; old and new together fail."""
    from hyperalign.utils._validation import renamed_params

    @renamed_params(kind="map_type")
    def f(x, *, map_type="raw"):
        return x, map_type

    assert f(1, map_type="direct") == (1, "direct")
    with pytest.warns(FutureWarning, match=r"f\(kind=\.\.\.\) is deprecated.*use map_type=") as w:
        assert f(1, kind="residual") == (1, "residual")
    assert w[0].filename == __file__  # the warning points at the caller's line
    with pytest.raises(TypeError, match=r"both kind= \(deprecated\) and map_type="):
        f(1, kind="raw", map_type="raw")
    assert "kind" not in __import__("inspect").signature(f).parameters


def test_verbose_levels_are_per_thread():
    """Two threads in calls with different ``verbose=`` each see their own level, interleaved
    entries and exits leave the package level as it was, and the threads hyperalign splits a
    call over (``thread_pool``) see the caller's level."""
    import threading

    from hyperalign.utils import thread_pool

    gate = threading.Barrier(2)
    seen = {}

    @verbose
    def f(name, verbose=None):
        gate.wait()  # both calls inside at once
        seen[name] = logger.getEffectiveLevel()
        pooled = thread_pool(2).submit(logger.getEffectiveLevel).result()
        gate.wait()  # ... and both still inside when either reads its level
        seen[name + "_pool"] = pooled
        return name

    old = logger.getEffectiveLevel()
    threads = [threading.Thread(target=f, args=(n,), kwargs={"verbose": v})
               for n, v in (("a", "error"), ("b", "debug"))]  # fmt: skip
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen == {"a": logging.ERROR, "b": logging.DEBUG, "a_pool": logging.ERROR,
                    "b_pool": logging.DEBUG}  # fmt: skip
    assert logger.getEffectiveLevel() == old and logger.level == old
    assert logger.isEnabledFor(logging.WARNING) == (old <= logging.WARNING)
