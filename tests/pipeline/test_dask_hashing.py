"""Hashing on the workers: in a Dask run of a BIDS study the client reads no recording; each
worker reads, hashes, checks the cache, computes and writes its own entries, with the cache
keys of a serial run (a cache written by either kind of run is reused by the other)."""

from __future__ import annotations

import shutil
import threading
import time

import pandas as pd
import pytest

pytest.importorskip("distributed")
from distributed import LocalCluster

from hyperalign.pipeline import run_pipeline

# The studies here are tiny on purpose (3 dyads, seconds each): their small-study warnings are
# expected and are tested where they are the behaviour (tests/pipeline/test_run.py).
pytestmark = [
    pytest.mark.filterwarnings("ignore:only 3 dyad groups:UserWarning"),
    pytest.mark.filterwarnings(r"ignore:singular fit in \d+ of:UserWarning"),
]

CONFIG = "pipelines/semantic_vs_acoustic.yaml"
SMALL = {
    "data.source": "bids",
    "features.layers.model": None,
    "features.speech_embeddings": False,
    "features.controls": [],
    "coupling.surrogates.n": 2,
    "coupling.lags": [0.0],
    "stats.n_permutations": 600,  # 3 blocks of 256: the null fans out over the workers
    "report.html": False,
    "report.figures": False,
}


@pytest.fixture(scope="module")
def bids(tmp_path_factory):
    """A 3-dyad BIDS study (1 min, 8 channels at 128 Hz)."""
    from hyperalign.datasets import load_demo
    from hyperalign.io import write_bids_dyads

    dyads, _ = load_demo(n_dyads=3, duration=60.0, random_state=0, n_channels=8, sfreq=128.0)
    root = tmp_path_factory.mktemp("study") / "bids"
    write_bids_dyads(dyads, root)
    return root


@pytest.fixture(scope="module")
def serial(bids, tmp_path_factory):
    out = tmp_path_factory.mktemp("serial") / "out"
    return run_pipeline(CONFIG, out=out, overrides={**SMALL, "data.root": str(bids)},
                        verbose="error")  # fmt: skip


class _Reads:
    """Counts reads of a dyad by thread: the client's (main thread) and the workers'."""

    def __init__(self, monkeypatch):
        from hyperalign import io as hio

        self.calls: list[tuple[str, object]] = []
        real = hio.read_bids_dyads

        def counted(root, *args, **kwargs):
            self.calls.append((threading.current_thread().name, kwargs.get("dyad_ids")))
            return real(root, *args, **kwargs)

        monkeypatch.setattr(hio, "read_bids_dyads", counted)

    def by_client(self):
        return [c for c in self.calls if c[0] == threading.main_thread().name]


def _dask_run(bids, out, lc):
    over = {**SMALL, "data.root": str(bids), "execution.executor": "dask",
            "execution.scheduler": lc.scheduler_address}  # fmt: skip
    return run_pipeline(CONFIG, out=out, overrides=over, verbose="error")


def _same_tables(a, b):
    assert set(a.tables) == set(b.tables)
    for name in a.tables:
        pd.testing.assert_frame_equal(a.tables[name], b.tables[name], obj=name)


@pytest.mark.slow
def test_cache_shared_both_ways_and_each_dyad_read_once_by_a_worker(
    serial, bids, tmp_path, monkeypatch
):
    # a serial run's cache, less one dyad's synchrony entry, resumed on the cluster
    cache = tmp_path / "dask" / "cache"
    shutil.copytree(serial.out / "cache", cache)
    gone = sorted((cache / "sync").rglob("*.parquet"))[0]
    gone.unlink()
    # the statistics are cached too (keyed on the analysis table): without their entry they
    # are computed again, here in blocks of permutations on the cluster
    shutil.rmtree(cache / "stats")
    reads = _Reads(monkeypatch)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, protocol="tcp",
                      host="127.0.0.1", dashboard_address=None) as lc:  # fmt: skip
        res = _dask_run(bids, tmp_path / "dask", lc)
        # the statistics step sent its blocks of permutations to the workers
        assert any("_run_indexed" in k for k in lc.scheduler.task_prefixes)
    _same_tables(serial, res)
    assert res.manifest["run_key"] == serial.manifest["run_key"]  # same inputs, same exclusions
    status = res.cache.set_index(["step", "dyad"])["status"]
    assert (status == "hit").sum() == 5 and (status == "miss").sum() == 1
    # the client read no recording; each dyad was read once, by a worker, on its own
    assert reads.by_client() == []
    assert sorted(str(c[1]) for c in reads.calls) == sorted(
        str([d]) for d in res.tables["participants"]["dyad"].unique()
    )
    assert len(list((cache / "sync").rglob("*.parquet"))) == 3  # the worker wrote it back
    # and back: a serial run reuses the entries the workers wrote (keys identical)
    monkeypatch.undo()
    again = run_pipeline(CONFIG, out=tmp_path / "dask",
                         overrides={**SMALL, "data.root": str(bids)}, verbose="error")  # fmt: skip
    assert (again.cache["status"] == "hit").all() and len(again.cache) == 6
    _same_tables(serial, again)


def test_worker_keys_are_the_serial_keys_and_a_failed_check_computes_nothing(bids, tmp_path):
    """work_dyad (what a worker does) gives a serial run's digests and cache keys; a dyad that
    fails a check of the study comes back with the problem and no computation."""
    from hyperalign import io as hio
    from hyperalign.pipeline import load_config
    from hyperalign.pipeline._dask_data import work_dyad
    from hyperalign.pipeline.dask import DyadRef
    from hyperalign.pipeline.hashing import hash_dyad
    from hyperalign.pipeline.run import WORKER_STEPS, step_keys

    cfg = load_config(CONFIG, {**SMALL, "data.root": str(bids),
                               "coupling.rois": {"front": ["NoSuchChannel"]}})  # fmt: skip
    dyads, _ = hio.read_bids_dyads(bids)
    ref = DyadRef(str(bids.resolve()), dyads[0].dyad_id)
    work = work_dyad(ref, cfg, tmp_path / "cache", True, WORKER_STEPS)
    assert work.hashes == hash_dyad(dyads[0])
    assert work.keys == step_keys(cfg, hash_dyad(dyads[0]))
    assert work.features is None and work.sync is None and not (tmp_path / "cache").exists()
    assert len(work.problems) == 1 and "NoSuchChannel" in work.problems[0]
    assert work.info.dyad_id == dyads[0].dyad_id and work.info.sfreq == dyads[0].sfreq
    pd.testing.assert_frame_equal(work.info.summary(), dyads[0].summary())


@pytest.mark.slow
def test_worker_killed_while_reading_and_computing_loses_no_dyad(serial, bids, tmp_path):
    """SIGKILL of a worker process while it reads, hashes and computes a dyad of a BIDS study:
    the dyad is done again elsewhere and the run gives the serial tables, one entry each."""
    import os
    import signal

    killed: list = []
    stop = threading.Event()

    def killer(client, pids):
        while not stop.is_set() and not killed:
            for addr, tasks in client.processing().items():
                if any("work_dyad" in str(t) for t in tasks) and addr in pids:
                    os.kill(pids[addr], signal.SIGKILL)
                    killed.append(addr)
                    return
            time.sleep(0.01)

    from distributed import Client

    lc = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, protocol="tcp",
                      host="127.0.0.1", dashboard_address=None)  # fmt: skip
    with lc, Client(lc) as client:
        watch = threading.Thread(target=killer, args=(client, client.run(os.getpid)))
        watch.start()
        try:
            res = _dask_run(bids, tmp_path / "out", lc)
        finally:
            stop.set()
            watch.join(5)
    assert killed, "no worker was killed: the run finished before the watcher saw a dyad"
    _same_tables(serial, res)
    assert (res.cache["status"] == "miss").all() and len(res.cache) == 6
    for step in ("features", "sync"):
        assert len(list((tmp_path / "out" / "cache" / step).rglob("*.parquet"))) == 3


def test_unreadable_dyad_comes_back_as_its_read_report_row(bids, tmp_path):
    from hyperalign import io as hio
    from hyperalign.pipeline import load_config
    from hyperalign.pipeline._dask_data import work_dyad
    from hyperalign.pipeline.dask import DyadRef
    from hyperalign.pipeline.run import WORKER_STEPS

    root = tmp_path / "bids"
    shutil.copytree(bids, root)
    man = hio.read_manifest(root)
    row = man.iloc[0]
    (root / row["neural_1"]).write_bytes(b"not a recording")
    cfg = load_config(CONFIG, {**SMALL, "data.root": str(root)})
    work = work_dyad(DyadRef(str(root), str(row["dyad_id"])), cfg, tmp_path / "c", True,
                     WORKER_STEPS)  # fmt: skip
    assert work.info is None and work.features is None and work.hashes is None
    assert work.report["dyad_id"] == str(row["dyad_id"]) and work.report["row"] == 0
    assert work.report["stage"] == "neural" and work.report["error"]
