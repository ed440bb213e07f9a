"""Siblings of the issue-10 items found in the pipeline: settings that were silently ignored,
unsafe cache names, metric aliases, exclusions lost in worker processes, signals."""

from __future__ import annotations

import signal
import threading

import pandas as pd
import pytest

from hyperalign.pipeline import ConfigError, RunInterrupted, StepCache, load_config
from hyperalign.pipeline import run as prun
from hyperalign.pipeline.cache import safe_item
from hyperalign.pipeline.hashing import hash_dyad
from hyperalign.pipeline.interrupt import critical, handle_signals


def test_fixed_window_setting_reaches_the_synchrony(small_dyad, monkeypatch, tmp_path):
    """``coupling.window`` used to be ignored (windows were always min_duration long)."""
    import hyperalign.coupling as hc

    seen = {}

    def fake_sync(dyad, **kw):
        seen.update(kw)
        raise StopIteration  # enough: the arguments are what we check

    monkeypatch.setattr(hc, "compute_dyad_sync", fake_sync)
    cfg = load_config(
        {"name": "x", "coupling": {"epochs": "fixed", "window": 4.0, "rois": None}},
        {"coupling.surrogates": "null", "stats.sync": "sync"},
    )
    with pytest.raises(StopIteration):
        prun._coupling_one((small_dyad, cfg, tmp_path, False, "k"))
    assert seen["window"] == 4.0 and seen["epochs"] == "fixed"


def test_metric_names_are_resolved_like_the_synchrony_does():
    cfg = load_config({"name": "x", "stats": {"metric": "PLV"}})  # an alias, not an error
    assert cfg["stats"]["metric"] == "PLV"
    with pytest.raises(ConfigError, match="stats.metric: unknown metric 'plvv'"):
        load_config({"name": "x", "stats": {"metric": "plvv"}})


@pytest.mark.parametrize("item", ["../escape", "a/b", "sub 01", "..", "dyad:1"])
def test_cache_items_cannot_escape_the_cache_folder(tmp_path, item):
    cache = StepCache(tmp_path / "cache")
    cache.run("features", item, "k", lambda: pd.DataFrame({"a": [1]}))
    entry, side = cache.paths("features", item, "k")
    assert entry.is_file() and side.is_file()
    assert (tmp_path / "cache" / "features") in entry.parents
    assert "/" not in safe_item(item) and safe_item(item) != safe_item(item + "x")


def test_step_exclusions_come_back_with_the_value_hit_or_miss(tmp_path):
    """Exclusions recorded by a step travel with its output (also from worker processes,
    where the dyad's own log is a copy), and are restored on a cache hit."""
    from hyperalign.utils import ExclusionLog

    log = ExclusionLog()

    def compute():
        log.add("features", "utterance", 3, "no previous turn")
        return pd.DataFrame({"a": [1]})

    cache = StepCache(tmp_path)
    first = cache.run("features", "d1", "k", compute, exclusions=log)
    again = StepCache(tmp_path).run("features", "d1", "k", compute, exclusions=ExclusionLog())
    assert first.status == "miss" and again.status == "hit"
    assert first.exclusions == again.exclusions == [
        {"stage": "features", "kind": "utterance", "item": "3", "reason": "no previous turn",
         "n": 1}
    ]  # fmt: skip
    off = StepCache(tmp_path, enabled=False).run("features", "d1", "k", compute)
    assert off.status == "off"


def test_hashes_see_one_sample_one_word_one_bad_channel(small_dyad):
    h0 = hash_dyad(small_dyad)
    d = small_dyad.copy()
    d.participants[1].raw._data[2, 10] += 1e-9
    assert hash_dyad(d).raws[1] != h0.raws[1] and hash_dyad(d).raws[0] == h0.raws[0]
    d = small_dyad.copy()
    d.participants[0].raw.info["bads"] = [d.participants[0].raw.ch_names[0]]
    assert hash_dyad(d).raws[0] != h0.raws[0]
    d = small_dyad.copy()
    w = d.transcript.words.copy()
    w.loc[w.index[0], "word"] = "hello"
    d.set_transcript(d.transcript._rebuild(w, d.transcript.duration))
    h = hash_dyad(d)
    assert h.transcript != h0.transcript and h.timing == h0.timing


def test_signal_during_the_final_swap_is_held_until_it_ends():
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signals need the main thread")
    done = []
    with handle_signals():
        with pytest.raises(RunInterrupted) as err:
            with critical():
                signal.raise_signal(signal.SIGTERM)
                done.append("after the signal")  # still runs: the swap is not split
    assert done == ["after the signal"] and err.value.exit_code == 143
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # handlers restored


def test_setting_aside_never_deletes_a_folder_hyperalign_did_not_make(tmp_path):
    from hyperalign.pipeline.outputs import RunFolder

    (tmp_path / "previous").mkdir()
    (tmp_path / "previous" / "thesis.tex").write_text("mine")  # a user's own folder
    (tmp_path / "tables").mkdir()
    (tmp_path / "tables" / "old.csv").write_text("a\n1\n")
    folder = RunFolder(tmp_path, "h").open()
    folder.close()
    assert (tmp_path / "previous" / "thesis.tex").read_text() == "mine"
    assert (tmp_path / "previous-2" / "tables" / "old.csv").is_file()
    assert (tmp_path / "previous-2" / ".hyperalign-previous").is_file()


def test_bids_root_inside_the_outputs_a_run_replaces_is_refused(tmp_path):
    from hyperalign.pipeline import run_pipeline

    (tmp_path / "out" / "bids").mkdir(parents=True)
    over = {"data.source": "bids", "data.root": str(tmp_path / "out" / "bids")}
    with pytest.raises(ConfigError, match=r"data.root: .* lies inside .*bids', which this run "
                       "replaces; copy the data elsewhere or choose another --out"):  # fmt: skip
        run_pipeline({"name": "x"}, out=tmp_path / "out", overrides=over)


def test_failed_run_cleanup_never_hides_the_error(tmp_path, monkeypatch, caplog):
    """After a failure the staging folder is removed best-effort: a removal that fails (a
    cluster worker still writing there) is logged, the lock released, and nothing raised that
    would replace the run's own error; the next run removes the leftover."""
    import logging

    from hyperalign.pipeline import outputs
    from hyperalign.pipeline.outputs import RunFolder

    folder = RunFolder(tmp_path, "h").open()
    (folder.staging / "tables" / "partial.csv").write_text("a\n")

    def busy(p):
        raise OSError(39, "Directory not empty", str(p))

    monkeypatch.setattr(outputs, "_rm", busy)
    with caplog.at_level(logging.WARNING, logger="hyperalign"):
        folder.close(failed=True)  # no exception
    assert "could not remove the staging folder" in caplog.text
    assert "Directory not empty" in caplog.text
    monkeypatch.undo()
    again = RunFolder(tmp_path, "h").open()  # the lock was released; leftovers are cleaned
    assert not (again.staging / "tables" / "partial.csv").exists()
    again.close()
