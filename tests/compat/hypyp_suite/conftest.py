"""HyPyP 0.6.2's own test suite (``tests/test_sync.py``, ``tests/test_stats.py``) run against
:mod:`hyperalign.compat.hypyp`.

Vendored from the HyPyP 0.6.2 sdist (``test_sync.py`` -> ``test_hypyp_sync.py``,
``test_stats.py`` -> ``test_hypyp_stats.py``) and, for ``accorr_reference.py`` and these
fixtures, HyPyP's repository (``tests/conftest.py``, v0.6.0 tag; the sdist does not ship them).
BSD-3-Clause, copyright the authors of HyPyP (``LICENSE_HYPYP``). The only edits to the test
files are import lines marked ``# hyperalign: swapped in``: HyPyP's ``analyses`` module,
``compute_sync`` and its metric classes (``hypyp.sync.PLV`` ...) are replaced by hyperalign's.
HyPyP's ``stats`` and ``utils`` (cluster statistics, ``merge``, ``generate_random_epoch``) and
its backend-dispatch machinery (``get_metric``, ``BaseMetric``, kernels) are not part of the
drop-in and stay HyPyP's; HyPyP must be installed (test-only dependency).

Data: HyPyP's fixtures read ``tests/data/preproc_S{1,2}.fif`` and download
``participant{1,2}-epo.fif`` from the HypypData repository (network). Both are replaced here by
the real pair in ``../shared/data/eeg-hypyp-pair`` (``S1-epo.fif``/``S2-epo.fif`` are
byte-identical to ``preproc_S1/S2.fif``: 31 EEG channels at 500 Hz, the layout the tests
hard-code); the tests that need them skip when the folder is absent (a user's clone).
"""

from __future__ import annotations

import importlib.util
import os
from collections import OrderedDict, namedtuple
from pathlib import Path

import numpy as np
import pytest

if importlib.util.find_spec("hypyp") is None:  # the reference is a test-only dependency
    collect_ignore_glob = ["test_hypyp_*.py"]

#: tests of HyPyP's own machinery, not of its computations: backend dispatch and capability
#: checks of ``hypyp.sync.BaseMetric`` subclasses (``TestBackendCapability``, run against
#: HyPyP's classes), HyPyP's import-time detection of optional packages (each test re-imports
#: hypyp in a subprocess), and module flags patched with ``unittest.mock``. hyperalign has no
#: such machinery (its backends are chosen per call), so these cannot be swapped.
HYPYP_INTERNALS = (
    "TestBackendCapability::",
    "TestAccorrErrorHandling::test_numba_fallback_warning",
    "TestAccorrErrorHandling::test_torch_fallback_warning",
    "test_broken_optional_dependency_does_not_break_import",
    "test_absent_optional_dependency_stays_silent",
    "test_missing_backend_hint_names_the_pip_extra",
)


#: over ~30 s on the real pair (multitaper / HyPyP's own cluster statistics on 62 channels)
SLOW = ("test_metaconn_matrix_2brains", "test_pair_connectivity_accorr", "test_compute_nmPLV")


#: warnings HyPyP's own tests meet by design (the suite runs under warnings-as-errors): the
#: drop-in repeats HyPyP's warnings, and HyPyP's tests, written for its default warning policy,
#: do not catch them.
HYPYP_WARNINGS = (
    # optimization='torch' on a machine without a GPU: torch on the CPU (HyPyP's message)
    "ignore:No GPU found, using torch on CPU:UserWarning",
    # optimization='auto' without a GPU falls back to NumPy (HyPyP's message)
    "ignore:No GPU available:UserWarning",
    # behav_corr on constant cells gives NaN with scipy's warning, as HyPyP
    "ignore::scipy.stats.ConstantInputWarning",
    # HyPyP's statscluster on random data: MNE finds no cluster and says so
    "ignore:No clusters found:RuntimeWarning",
    # ... and HyPyP's test_stats then averages the empty cluster_p_values (numpy warns)
    "ignore:Mean of empty slice:RuntimeWarning",
    # (numpy's second warning for that empty mean; HyPyP's data are unseeded random, so
    # whether a cluster is found varies from run to run)
    "ignore:invalid value encountered in scalar divide:RuntimeWarning",
)
_HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config, items):
    for item in items:
        if Path(str(item.fspath)).resolve().parent == _HERE:  # the hook sees every item
            for spec in HYPYP_WARNINGS:
                item.add_marker(pytest.mark.filterwarnings(spec))
        key = "::".join(item.nodeid.split("::")[1:])
        if key in SLOW:
            item.add_marker(pytest.mark.slow)
        if key.startswith(HYPYP_INTERNALS):
            item.add_marker(
                pytest.mark.skip(
                    reason="tests HyPyP's own dispatch/import machinery (hypyp.sync.base), "
                    "not a computation; not part of the drop-in"
                )
            )


def _read_pair(shared_data):
    import mne

    folder = shared_data / "eeg-hypyp-pair"
    epo1 = mne.read_epochs(folder / "S1-epo.fif", preload=True, verbose=False)
    epo2 = mne.read_epochs(folder / "S2-epo.fif", preload=True, verbose=False)
    mne.epochs.equalize_epoch_counts([epo1, epo2])
    return epo1, epo2


@pytest.fixture(scope="module")
def epochs(shared_data):
    """HyPyP's ``epochs`` fixture (participant epochs, equalized, merged)."""
    from hypyp import utils

    epo1, epo2 = _read_pair(shared_data)
    epochs_tuple = namedtuple("epochs", ["epo1", "epo2", "epoch_merge"])
    return epochs_tuple(epo1=epo1, epo2=epo2, epoch_merge=utils.merge(epo1, epo2))


#: epochs of the pair that ``preprocessed_epochs`` keeps (HyPyP: all 33). The metric tests
#: recompute HyPyP's loop reference over all 62 x 62 channel pairs many times; 6 epochs keep
#: the file to minutes on a shared 2-core machine. HYPERALIGN_HYPYP_SUITE_FULL=1: all epochs.
N_EPOCHS = None if os.environ.get("HYPERALIGN_HYPYP_SUITE_FULL") == "1" else 6


@pytest.fixture(scope="module")
def preprocessed_epochs(shared_data):
    """HyPyP's ``preprocessed_epochs`` fixture (the first ``N_EPOCHS`` epochs)."""
    from hypyp import utils

    epo1, epo2 = _read_pair(shared_data)
    if N_EPOCHS is not None:
        epo1, epo2 = epo1[:N_EPOCHS], epo2[:N_EPOCHS]
    tup = namedtuple("preprocessed_epochs", ["pepo1", "pepo2", "pepochs_merge"])
    return tup(pepo1=epo1, pepo2=epo2, pepochs_merge=utils.merge(epo1, epo2))


@pytest.fixture(scope="module")
def complex_signal_raw(preprocessed_epochs):
    """(2, n_epochs, n_channels, n_freq, n_times), by hyperalign's ``compute_freq_bands``."""
    from hyperalign.compat import hypyp as analyses

    freq_bands = OrderedDict({"Alpha-Low": [7.5, 11], "Alpha-High": [11.5, 13]})
    data_inter = np.array(
        [preprocessed_epochs.pepo1.get_data(), preprocessed_epochs.pepo2.get_data()]
    )
    sampling_rate = preprocessed_epochs.pepo1.info["sfreq"]
    return analyses.compute_freq_bands(
        data_inter,
        sampling_rate,
        freq_bands,
        filter_length=int(sampling_rate),
        l_trans_bandwidth=5.0,
        h_trans_bandwidth=5.0,
    )


@pytest.fixture(scope="module")
def complex_signal(complex_signal_raw):
    """(n_epochs, n_freq, 2 n_channels, n_times): HyPyP's internal metric layout."""
    n_epoch, n_ch, n_freq, n_samp = complex_signal_raw.shape[1:]
    return complex_signal_raw.transpose((1, 3, 0, 2, 4)).reshape(n_epoch, n_freq, 2 * n_ch, n_samp)
