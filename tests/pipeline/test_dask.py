"""Scale-out on Dask: the same tables as a serial run, a lost worker, an unreachable scheduler,
the shared-filesystem check and seed-split blocks (permutations, simulation studies)."""

from __future__ import annotations

import socket
import threading
import time

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("distributed")
from distributed import LocalCluster

from hyperalign.pipeline import run_pipeline
from hyperalign.pipeline.dask import (
    DyadRef,
    SchedulerError,
    SharedFilesystemError,
    check_shared_filesystem,
    dask_session,
)
from hyperalign.utils._parallel import block_slices, map_blocks, spawn_seeds

# The studies here are tiny on purpose (3 dyads, seconds each): their small-study warnings are
# expected and are tested where they are the behaviour (tests/pipeline/test_run.py).
pytestmark = [
    pytest.mark.filterwarnings("ignore:only 3 dyad groups:UserWarning"),
    pytest.mark.filterwarnings(r"ignore:singular fit in \d+ of:UserWarning"),
]

CONFIG = "pipelines/semantic_vs_acoustic.yaml"
SMALL = {
    "data.n_dyads": 3,
    "data.duration": 60.0,
    "data.n_channels": 8,
    "data.sfreq": 128.0,
    "features.layers.model": None,
    "features.speech_embeddings": False,
    "features.controls": [],
    "coupling.surrogates.n": 2,
    "coupling.lags": [0.0],
    "stats.n_permutations": 20,
    "report.html": False,
    "report.figures": False,
}


def _cluster(n_workers: int) -> LocalCluster:
    """Workers as threads of this process (fast; monkeypatches reach them), on TCP."""
    return LocalCluster(
        n_workers=n_workers,
        threads_per_worker=1,
        processes=False,
        protocol="tcp",
        host="127.0.0.1",
        dashboard_address=None,
        # the scheduler's HTTP routes on a free port (8787 may be taken: a warning and a
        # leaked socket), as hyperalign's own LocalCluster does
        scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"},
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ------------------------------------------------------------------ errors before computing
def test_unreachable_scheduler_is_a_clear_error_before_computing(tmp_path):
    addr = f"tcp://127.0.0.1:{_free_port()}"
    over = {**SMALL, "execution.executor": "dask", "execution.scheduler": addr}
    with pytest.raises(SchedulerError, match=r"cannot reach the Dask scheduler at tcp://127") as e:
        run_pipeline(CONFIG, out=tmp_path / "out", overrides=over)
    msg = str(e.value)
    assert "execution.scheduler: null" in msg and "Nothing was computed" in msg
    assert not any((tmp_path / "out" / "cache").rglob("*.parquet"))


@pytest.mark.parametrize(
    "spec, err, match",
    [
        ("", ValueError, "empty string"),
        ({"cluster": "kubernetes"}, ValueError, r"cluster must be one of \['htcondor'"),
        (42, TypeError, r"scheduler must be null .*; got 42 \(int\)"),
        ("not an address::", SchedulerError, "not a Dask address|cannot reach"),
    ],
)
def test_scheduler_spec_errors(spec, err, match):
    with pytest.raises(err, match=match), dask_session(spec, timeout=1):
        pass


# dask-jobqueue's SLURMCluster is half built when its constructor raises; its __del__ then
# warns that the cluster was not closed (nothing of ours to close: the object never reached us)
@pytest.mark.filterwarnings("ignore:unclosed cluster:ResourceWarning")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_jobqueue_bad_arguments_are_named():
    pytest.importorskip("dask_jobqueue")
    with pytest.raises(SchedulerError, match="could not start the slurm cluster"):
        with dask_session({"cluster": "slurm", "jobs": 1, "no_such_argument": 1}):
            pass


def test_jobqueue_script_from_the_config_mapping():
    pytest.importorskip("dask_jobqueue")
    from hyperalign.pipeline.dask import jobqueue_script

    spec = {"cluster": "slurm", "jobs": 4, "cores": 8, "processes": 8, "memory": "32GB",
            "walltime": "02:00:00", "account": "my_lab"}  # fmt: skip
    script = jobqueue_script(spec)
    assert "#SBATCH -A my_lab" in script and "#SBATCH -t 02:00:00" in script
    assert "--nworkers 8" in script and "distributed.cli.dask_worker" in script


class _FakeClient:
    def __init__(self, seen):
        self.seen = seen

    def run(self, func, paths, token, files):
        return {w: {p: ok for p in [*paths, *files]} for w, ok in self.seen.items()}


def test_shared_filesystem_check_names_the_worker(tmp_path):
    client = _FakeClient({"tcp://10.0.0.1:1": True, "tcp://10.0.0.2:1": False})
    with pytest.raises(SharedFilesystemError, match=r"(?s)1 of 2 Dask worker.*10\.0\.0\.2"):
        check_shared_filesystem(client, [tmp_path])
    check_shared_filesystem(_FakeClient({"tcp://10.0.0.1:1": True}), [tmp_path])
    assert not (tmp_path / ".hyperalign-fs-check").exists()
    # read-only files (the dataset) are compared by content, on the worker side
    from hyperalign.pipeline.dask import _see_token

    (tmp_path / "dyads.tsv").write_text("dyad_id\n")
    f = str(tmp_path / "dyads.tsv")
    good = _see_token([], "", {f: __import__("hashlib").sha256(b"dyad_id\n").hexdigest()})
    assert good == {f: True}
    assert _see_token([], "", {f: "0" * 64}) == {f: False}
    assert _see_token([str(tmp_path)], "token", {}) == {str(tmp_path): False}


def test_worker_without_the_dataset_is_a_clear_error(tmp_path):
    with pytest.raises(SharedFilesystemError, match="dyads.tsv is not visible here"):
        DyadRef(str(tmp_path), "d1").read()


# ------------------------------------------------------------------ the pipeline on a cluster
@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The small demo serially and on a 2-worker cluster reached by its address."""
    base = tmp_path_factory.mktemp("dask")
    serial = run_pipeline(CONFIG, out=base / "serial", overrides=SMALL, verbose="error")
    with _cluster(2) as lc:
        over = {**SMALL, "execution.executor": "dask", "execution.scheduler": lc.scheduler_address}
        dask = run_pipeline(CONFIG, out=base / "dask", overrides=over, verbose="error")
    return serial, dask


def test_dask_run_gives_the_serial_tables(runs):
    serial, dask = runs
    assert set(serial.tables) == set(dask.tables)
    for name in serial.tables:
        pd.testing.assert_frame_equal(serial.tables[name], dask.tables[name], obj=name)
    assert (dask.cache["status"] == "miss").all() and len(dask.cache) == 2 * 3


def test_cache_written_by_workers_is_reused_by_another_executor(runs):
    _, dask = runs
    again = run_pipeline(CONFIG, out=dask.out, overrides=SMALL, verbose="error")  # joblib, 1 job
    assert (again.cache["status"] == "hit").all() and len(again.cache) == 6
    pd.testing.assert_frame_equal(again.tables["synchrony"], dask.tables["synchrony"])


def test_bids_dataset_on_a_cluster_reuses_a_copied_cache(runs, tmp_path):
    """A BIDS study read by the workers, resumed from a cache made by another (serial) run."""
    import shutil

    serial, _ = runs
    shutil.copytree(serial.out / "cache", tmp_path / "out" / "cache")
    over = {**SMALL, "data.source": "bids", "data.root": str(serial.out / "bids"),
            "execution.executor": "dask"}  # fmt: skip
    with _cluster(2) as lc:
        over["execution.scheduler"] = lc.scheduler_address
        res = run_pipeline(CONFIG, out=tmp_path / "out", overrides=over, verbose="error")
    assert (res.cache["status"] == "hit").all() and len(res.cache) == 6
    pd.testing.assert_frame_equal(res.tables["synchrony"], serial.tables["synchrony"])


def test_worker_closed_midway_loses_and_duplicates_no_dyad(runs, tmp_path, monkeypatch):
    """The first worker to finish a dyad closes itself before returning; the scheduler sends
    that dyad to the other worker, which finds the entry the dead one wrote in the cache."""
    from hyperalign import io as hio
    from hyperalign.pipeline import _dyad_steps as steps_mod
    from hyperalign.pipeline import run as run_mod
    from hyperalign.pipeline.hashing import hash_dyad

    serial, dask = runs
    cfg = dask.config
    root = dask.out / "bids"
    dyads, _ = hio.read_bids_dyads(root)
    keys = {dy.dyad_id: run_mod.step_keys(cfg, hash_dyad(dy)) for dy in dyads}
    killed = []
    lock = threading.Lock()

    def hook(name):
        from distributed import get_worker

        if not name.startswith("sync:"):
            return
        with lock:
            if killed:
                return
            w = get_worker()
            killed.append((name, w.address))
        w.loop.add_callback(w.close)
        t0 = time.monotonic()
        while w.status.name == "running" and time.monotonic() - t0 < 20:
            time.sleep(0.05)

    monkeypatch.setattr(steps_mod, "checkpoint", hook)  # the per-dyad steps' checkpoints
    with _cluster(2) as lc, dask_session(lc.scheduler_address, paths=[tmp_path]) as client:
        outs = run_mod.step_coupling(
            dyads, cfg, tmp_path / "cache", keys, executor="dask", data_root=root
        )
        n_left = len(client.nthreads())
    assert killed and n_left == 1
    assert [o.item for o in outs] == [dy.dyad_id for dy in dyads]
    lost = killed[0][0].split(":", 1)[1]
    assert {o.item: o.status for o in outs}[lost] == "hit"
    got = pd.concat([o.value for o in outs], ignore_index=True)
    pd.testing.assert_frame_equal(got, serial.tables["synchrony"])
    entries = sorted((tmp_path / "cache" / "sync").rglob("*.parquet"))
    assert len(entries) == len(dyads)


# ------------------------------------------------------------------ seed-split blocks
def _perm_block(block, rng, x, y):
    """Permutation null of a mean difference, one block of permutations."""
    z = np.concatenate([x, y])
    out = np.empty(block.stop - block.start)
    for i in range(len(out)):
        p = rng.permutation(len(z))
        out[i] = z[p[: len(x)]].mean() - z[p[len(x) :]].mean()
    return out


def _study_block(block, rng):
    """A block of simulated studies: one short simulated dyad each, its seed from ``rng``."""
    from hyperalign.simulation import simulate_conversation

    rows = []
    for _ in range(block.stop - block.start):
        seed = int(rng.integers(2**31))
        dy, _truth = simulate_conversation(
            duration=20.0, n_channels=4, sfreq=64.0, audio=False, random_state=seed
        )
        rows.append((seed, float(dy.participants[0].raw.get_data().std())))
    return rows


@pytest.fixture(scope="module")
def block_clusters():
    with _cluster(1) as one, _cluster(2) as two:
        yield {1: one, 2: two}


@pytest.mark.parametrize("n_workers", [1, 2])
def test_permutation_blocks_equal_serial(block_clusters, n_workers):
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=15), rng.normal(0.5, size=12)
    kw = dict(block_size=40, random_state=7, x=x, y=y)
    serial = np.concatenate(map_blocks(_perm_block, 200, **kw))
    addr = block_clusters[n_workers].scheduler_address
    with dask_session(addr) as client:
        on_cluster = np.concatenate(map_blocks(_perm_block, 200, **kw))
        assert len(client.nthreads()) == n_workers
    np.testing.assert_array_equal(serial, on_cluster)
    assert len(np.unique(serial)) > 100  # the blocks do not repeat one another


@pytest.mark.parametrize("n_workers", [1, 2])
def test_simulation_study_blocks_equal_serial(block_clusters, n_workers):
    serial = map_blocks(_study_block, 5, block_size=2, random_state=3)
    with dask_session(block_clusters[n_workers].scheduler_address):
        on_cluster = map_blocks(_study_block, 5, block_size=2, random_state=3, n_jobs=2)
    assert serial == on_cluster and [len(b) for b in serial] == [2, 2, 1]


def test_stats_cells_on_the_cluster_equal_serial(runs, block_clusters):
    """test_semantic_beyond_acoustics fans its cells out through joblib: on the cluster it
    gives the serial numbers (one permutation plan, drawn once)."""
    from hyperalign.stats import test_semantic_beyond_acoustics as semantic_test

    serial, _ = runs
    table = serial.tables["analysis"]
    table = table[table["metric"] == "plv"] if "metric" in table else table
    kw = dict(
        sync="sync_z",
        semantic=["sem_align"],
        acoustic=["acsim"],
        by=("band", "roi", "lag"),
        n_permutations=30,
        partition=False,
        random_state=0,
        verbose="error",
    )
    ref = semantic_test(table, n_jobs=1, **kw)
    with dask_session(block_clusters[2].scheduler_address):
        got = semantic_test(table, n_jobs=2, **kw)
    # 'notes' holds the warnings a cell raised, as Python's warning registry let them through
    # (a warning already shown in this process is not shown again): it depends on what ran
    # before in the process, not on the data; every number is compared
    pd.testing.assert_frame_equal(ref.table.drop(columns="notes"), got.table.drop(columns="notes"))


def test_seeds_and_blocks():
    a = [np.random.default_rng(s).random() for s in spawn_seeds(5, 3)]
    b = [np.random.default_rng(s).random() for s in spawn_seeds(5, 3)]
    assert a == b and len(set(a)) == 3
    assert block_slices(5, 2) == [slice(0, 2), slice(2, 4), slice(4, 5)]
    with pytest.raises(ValueError, match="block_size must be an integer >= 1; got 0"):
        block_slices(5, 0)
    with pytest.raises(TypeError, match="random_state must be None"):
        spawn_seeds("seed", 2)


@pytest.mark.slow
def test_worker_killed_by_sigkill_midway_loses_and_duplicates_no_dyad(runs, tmp_path):
    """A worker process is killed (SIGKILL) while it computes a dyad of the synchrony step; the
    scheduler sends the dyad to another worker (the nanny restarts the dead one) and the step
    gives the serial table, with one cache entry per dyad."""
    import os
    import signal

    from hyperalign import io as hio
    from hyperalign.pipeline import run as run_mod
    from hyperalign.pipeline.hashing import hash_dyad

    serial, dask = runs
    cfg, root = dask.config, dask.out / "bids"
    dyads, _ = hio.read_bids_dyads(root)
    keys = {dy.dyad_id: run_mod.step_keys(cfg, hash_dyad(dy)) for dy in dyads}
    killed: list = []
    stop = threading.Event()

    def killer(client, pids):
        while not stop.is_set() and not killed:
            for addr, tasks in client.processing().items():
                if tasks and addr in pids:
                    os.kill(pids[addr], signal.SIGKILL)
                    killed.append((addr, sorted(tasks)))
                    return
            time.sleep(0.01)

    lc = LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        protocol="tcp",
        host="127.0.0.1",
        dashboard_address=None,
    )
    with lc, dask_session(lc.scheduler_address, paths=[tmp_path]) as client:
        watch = threading.Thread(target=killer, args=(client, client.run(os.getpid)))
        watch.start()
        try:
            outs = run_mod.step_coupling(
                dyads, cfg, tmp_path / "cache", keys, executor="dask", data_root=root
            )
        finally:
            stop.set()
            watch.join(5)
    assert killed, "no worker was killed: the step finished before the watcher saw a task"
    assert [o.item for o in outs] == [dy.dyad_id for dy in dyads]
    got = pd.concat([o.value for o in outs], ignore_index=True)
    pd.testing.assert_frame_equal(got, serial.tables["synchrony"])
    assert len(list((tmp_path / "cache" / "sync").rglob("*.parquet"))) == len(dyads)
