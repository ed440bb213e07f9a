"""Permutation nulls and simulation studies in blocks: identical to a serial run whatever the
number of blocks and workers (serially, on joblib workers, on a Dask LocalCluster)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("distributed")
from distributed import LocalCluster

from hyperalign.pipeline.dask import dask_session
from hyperalign.stats import simulate_analysis_table, test_semantic_beyond_acoustics
from hyperalign.stats.permutation import PermutationPlan

# The studies here are tiny on purpose (3 dyads, seconds each): their small-study warnings are
# expected and are tested where they are the behaviour (tests/pipeline/test_run.py).
pytestmark = [
    pytest.mark.filterwarnings("ignore:only 3 dyad groups:UserWarning"),
    pytest.mark.filterwarnings(r"ignore:singular fit in \d+ of:UserWarning"),
]


@pytest.fixture(scope="module")
def cluster():
    """Two worker processes (the blocks are pickled and sent, as on a real cluster)."""
    with LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        protocol="tcp",
        host="127.0.0.1",
        dashboard_address=None,
    ) as lc:
        yield lc


@pytest.fixture(scope="module")
def table():
    return simulate_analysis_table(
        n_dyads=6, n_utterances=30, semantic_effect=0.3, bands=("theta", "alpha"),
        rois=("front",), effect_cells=[("theta", "front", 0.0)], random_state=4,
    )  # fmt: skip


def _test(table, n_permutations=600, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return test_semantic_beyond_acoustics(
            table, acoustic=["acsim"], n_permutations=n_permutations, partition=False,
            random_state=0, verbose="error", **kw,
        )  # fmt: skip


def _same(a, b):
    # 'notes' holds the warnings a cell raised as Python's registry let them through (what ran
    # before in the process), not data: every number is compared
    pd.testing.assert_frame_equal(
        a.table.drop(columns="notes"), b.table.drop(columns="notes"), check_exact=True
    )
    np.testing.assert_array_equal(a.null, b.null)


@pytest.mark.parametrize("scheme", ["within", "circular", "pseudo"])
def test_permutation_blocks_1_vs_3_vs_cluster_identical(table, cluster, scheme):
    one = _test(table, scheme=scheme, block_size=768)  # 600 permutations: one block
    three = _test(table, scheme=scheme, block_size=256)  # three blocks
    _same(one, three)
    assert one.null.shape == (600, 2) and len(np.unique(one.null[:, 0])) > 200
    with dask_session(cluster.scheduler_address) as client:
        assert len(client.nthreads()) == 2
        on_cluster = _test(table, scheme=scheme, block_size=256)
        # the blocks ran on the workers (joblib's Dask backend), not in this process
        done = client.run_on_scheduler(
            lambda dask_scheduler: [k for k in dask_scheduler.task_prefixes if "_run_indexed" in k]
        )
    assert done
    _same(one, on_cluster)
    assert (one.table["p_perm"] < 1).any()


def test_permutation_blocks_on_joblib_workers(table):
    _same(_test(table, block_size=768), _test(table, block_size=256, n_jobs=2))


@pytest.mark.slow
def test_refit_permutations_in_blocks(table):
    # refit engine: 260 permutations in blocks of 256 + 4, against one block
    cell = table[table["band"] == "theta"]
    kw = dict(n_permutations=260, method="refit")
    _same(_test(cell, block_size=512, **kw), _test(cell, block_size=256, **kw))


def test_block_size_is_checked(table):
    with pytest.raises(ValueError, match="block_size must be a positive multiple of 256"):
        _test(table, block_size=100)
    with pytest.raises(TypeError, match="block_size must be an int"):
        _test(table, block_size=256.0)


def test_plan_subset_is_the_plans_rows():
    units = pd.DataFrame(
        {"dyad": np.repeat(["a", "b", "c"], 4), "utterance_id": np.tile(range(4), 3)}
    )
    for scheme in ("within", "circular", "pseudo"):
        plan = PermutationPlan(units, "dyad", 10, scheme, random_state=1)
        full = plan.indices(units)
        parts = [plan.subset(b).indices(units) for b in (slice(0, 3), slice(3, 10))]
        np.testing.assert_array_equal(np.vstack(parts), full)
        assert plan.subset(slice(8, 20)).n_permutations == 2


# ------------------------------------------------------------------ simulation studies
def _study(**kw):
    from hyperalign.simulation import simulate_study

    return simulate_study(
        n_dyads=3, duration=12.0, n_channels=4, sfreq=64.0, audio=False, random_state=5, **kw
    )


def _same_study(a, b):
    (da, ta), (db, tb) = a, b
    assert [d.dyad_id for d in da] == [d.dyad_id for d in db] == ["sim-01", "sim-02", "sim-03"]
    for x, y in zip(da, db):
        for p, q in zip(x.participants, y.participants):
            np.testing.assert_array_equal(p.raw.get_data(), q.raw.get_data())
        pd.testing.assert_frame_equal(x.transcript.words, y.transcript.words)
    pd.testing.assert_frame_equal(ta.utterances, tb.utterances)


def test_simulate_study_blocks_identical_whatever_the_workers(cluster):
    serial = _study()
    _same_study(serial, _study(block_size=2))
    with dask_session(cluster.scheduler_address):
        _same_study(serial, _study(block_size=1))
    # the dyads differ from one another (each has its own seed)
    a, b = (d.participants[0].raw.get_data() for d in serial[0][:2])
    assert not np.array_equal(a, b)


def _without_timings(rows):
    return [{k: v for k, v in r.items() if not k.startswith("t_")} for r in rows]


def test_map_seeds_equal_serial_whatever_the_blocks(cluster):
    from hyperalign.utils._parallel import map_seeds

    def draws(gens):
        return [g.random(3).tolist() for g in gens]

    serial = draws(map_seeds(np.random.default_rng, range(5)))
    assert draws(map_seeds(np.random.default_rng, range(5), block_size=2)) == serial
    with dask_session(cluster.scheduler_address):
        done = dict(map_seeds(np.random.default_rng, range(5), block_size=2, as_completed=True))
    assert sorted(done) == list(range(5)) and draws(done[i] for i in range(5)) == serial
    assert len({tuple(d) for d in serial}) == 5


@pytest.mark.slow
def test_validation_studies_in_blocks_equal_serial(cluster):
    """The validation runner's studies (one seed each) on 2 workers equal the serial ones."""
    from hyperalign.stats._simstudy import run_validation_study_safe
    from hyperalign.utils import verbose_context
    from hyperalign.utils._parallel import map_seeds

    kw = dict(condition="power", n_dyads=4, duration=30.0, n_permutations=10)
    with verbose_context("warning"), warnings.catch_warnings():  # the study silences both
        serial = map_seeds(run_validation_study_safe, [3, 4], **kw)
        with dask_session(cluster.scheduler_address):
            done = dict(map_seeds(run_validation_study_safe, [3, 4], as_completed=True, **kw))
    assert sorted(done) == [0, 1] and all(not r["error"] for r in serial)
    assert _without_timings(serial) == _without_timings([done[0], done[1]])
    assert serial[0]["p_lrt"] != serial[1]["p_lrt"]
