"""Benchmark the synchrony engine against HyPyP (default and numba paths) and mne-connectivity.

Usage::

    .venv/bin/python benchmarks/bench_synchrony.py            # full run (a few minutes)
    .venv/bin/python benchmarks/bench_synchrony.py --quick    # small sizes (seconds)
    .venv/bin/python benchmarks/bench_synchrony.py --skip-hour

Part 1 (HyPyP's setting): 2 x 60 epochs x 31 channels x 1 s at 256 Hz, 3 bands, mode='all'
(the full 62 x 62 matrix HyPyP returns). Each (library, metric) runs in its own subprocess so that
its peak memory is measured separately: time of the metric stage on the same precomputed analytic
signals (HyPyP ``compute_sync`` vs hyperalign ``compute_sync`` kernels), peak RSS increase over
the process's baseline, and tracemalloc's peak of Python/NumPy allocations. The filter stage
(``compute_freq_bands`` vs ``analytic_signal(filter='hypyp')``, same numbers) is timed once.

Part 1b (end to end): raw epochs to synchrony, filtering included: HyPyP's
``compute_freq_bands`` + ``compute_sync`` (default and numba) against one hyperalign
``compute_sync`` call with ``filter='hypyp'`` (bitwise the same analytic signals).

Part 2 (mne-connectivity): ``spectral_connectivity_time`` (Morlet, per epoch) vs hyperalign on the
same wavelet analytic signals (plv, coh, wpli).

Part 3 (scale): one hour of a 64 + 64 channel dyad at 500 Hz in 2 s epochs (1800 epochs), 5 bands,
all 4,096 inter-brain pairs, plv + ccorr + wpli, ``filter='fft'``, float32, with time, peak RSS and
throughput next to a FLOP estimate and the machine's measured matrix-product speed.

The machine is shared: the 1-minute load average is printed with every part; timings taken under
load are noisy (multi-threaded BLAS suffers most).
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import resource
import subprocess
import sys
import time
import tracemalloc
import warnings

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

HYPYP_METRICS = ["plv", "ccorr", "accorr", "coh", "imcoh", "pli", "wpli", "envelope_corr"]
REPEATS = 5  # timed repeats per (library, metric); the best is reported
BANDS3 = {"theta": (4.0, 8.0), "alpha": (8.0, 13.0), "beta": (13.0, 30.0)}
BANDS5 = {
    "delta": (1.0, 4.0),
    "theta": (4.0, 8.0),
    "alpha": (8.0, 13.0),
    "beta": (13.0, 30.0),
    "gamma": (30.0, 45.0),
}


def _rss_bytes() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _maxrss_bytes() -> int:
    """Peak RSS since the last :func:`_reset_peak` (Linux VmHWM), else the process peak."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _reset_peak() -> None:
    """Reset the peak-RSS mark (Linux: write 5 to /proc/self/clear_refs) when possible."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        pass


def _load() -> str:
    return f"load avg {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"


def best_of(fn, n=3):
    """(best time of ``n`` runs, last result); the first run also warms caches and imports."""
    best, res = np.inf, None
    for _ in range(n):
        t0 = time.perf_counter()
        res = fn()
        best = min(best, time.perf_counter() - t0)
    return best, res


def _sim(n_ep, n_ch, n_t, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    common = rng.standard_normal((1, n_ep, 1, n_t))
    return (rng.standard_normal((2, n_ep, n_ch, n_t)) + 0.5 * common).astype(dtype)


# ------------------------------------------------------------------------------------------
# worker: one (library, metric) in a fresh process
# ------------------------------------------------------------------------------------------
def worker(lib: str, metric: str, n_ep: int, n_ch: int, n_t: int, sfreq: float) -> dict:
    import hypyp.analyses as ha

    from hyperalign.coupling import compute_sync
    from hyperalign.coupling.spectral import _analytic_bands

    data = _sim(n_ep, n_ch, n_t)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        z = ha.compute_freq_bands(data, sfreq, BANDS3)  # (2, E, C, F, T), shared input
    if lib.startswith("hypyp"):
        opt = "numba" if lib == "hypyp-numba" else None

        def run():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return ha.compute_sync(z, metric, epochs_average=False, optimization=opt)

        if opt:  # compile outside the timing
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ha.compute_sync(z[:, :1], metric, epochs_average=False, optimization=opt)
    else:
        from hyperalign.coupling.backend import get_backend
        from hyperalign.coupling.metrics import METRICS, _blas_limits, _check_threads, band_sync

        ops = get_backend("numpy")
        # the layout hyperalign's filter stage writes: (F, E, 2, C, T), S1 and S2 rows adjacent
        zb = np.ascontiguousarray(np.moveaxis(z, (3, 0), (0, 2)))
        del _analytic_bands
        METRICS[metric](ops, zb[0, :1, 0], zb[0, :1, 1])  # numba compile outside the timing
        METRICS[metric](ops.serial(), zb[0, :1, 0], zb[0, :1, 1])
        mode = "inter" if lib == "hyperalign-inter" else "all"
        n_threads = _check_threads(None)  # compute_sync's default: every available core
        _blas_limits(1).restore_original_limits()  # import threadpoolctl outside the timing

        def run():  # exactly what compute_sync does after filtering
            n_out = n_ch if mode == "inter" else 2 * n_ch
            out = np.empty((1, n_ep, zb.shape[0], n_out, n_out))
            limits = _blas_limits(1)
            for b in range(zb.shape[0]):
                band_sync(ops, zb[b], [metric], out[:, :, b], mode=mode, n_threads=n_threads)
            limits.restore_original_limits()
            return out

        del compute_sync
    # memory: one run under tracemalloc (and the RSS high-water mark); time: the best of up to
    # REPEATS runs without tracing (timeit's convention; a run over 5 s is not repeated)
    _reset_peak()
    base_rss = _rss_bytes()
    tracemalloc.start()
    t0 = time.perf_counter()
    out = run()
    first = time.perf_counter() - t0
    _, tm_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    peak = max(0, _maxrss_bytes() - base_rss)
    times = [first]
    if first < 5.0:
        for _ in range(REPEATS):
            t0 = time.perf_counter()
            run()
            times.append(time.perf_counter() - t0)
    elapsed = min(times)
    return {
        "lib": lib,
        "metric": metric,
        "time_s": elapsed,
        "peak_rss_mb": peak / 2**20,
        "tracemalloc_mb": tm_peak / 2**20,
        "checksum": float(np.nansum(out)),
    }


def _run_worker(lib, metric, n_ep, n_ch, n_t, sfreq, timeout=600):
    cmd = [
        sys.executable,
        os.path.abspath(__file__),
        "--worker",
        json.dumps([lib, metric, n_ep, n_ch, n_t, sfreq]),
    ]
    try:
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"lib": lib, "metric": metric, "error": f"timeout after {timeout} s"}
    lines = [ln for ln in res.stdout.splitlines() if ln.startswith("{")]
    if res.returncode != 0 or not lines:
        return {"lib": lib, "metric": metric, "error": res.stderr.strip()[-300:]}
    return json.loads(lines[-1])


def part_hypyp(n_ep, n_ch, n_t, sfreq, metrics, numba_ok):
    print(
        f"\n== Part 1: vs HyPyP | 2 x {n_ep} epochs x {n_ch} ch x {n_t} samples at {sfreq:g} Hz,"
    )
    print(f"   {len(BANDS3)} bands, mode='all' ({2 * n_ch}x{2 * n_ch}) | {_load()}")
    # filter stage
    import hypyp.analyses as ha

    from hyperalign.coupling import analytic_signal

    data = _sim(n_ep, n_ch, n_t)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t_h, zr = best_of(lambda: ha.compute_freq_bands(data, sfreq, BANDS3))
    t_o, zo = best_of(
        lambda: analytic_signal(data, sfreq, BANDS3, on_short="warn", verbose="error")
    )
    t_f, _ = best_of(lambda: analytic_signal(data, sfreq, BANDS3, filter_method="fft"))
    err = np.max(np.abs(zo - zr)) / np.max(np.abs(zr))
    print(
        f"   filter stage (best of 3): HyPyP {t_h:.3f} s | hyperalign 'hypyp' {t_o:.3f} s "
        f"({t_h / t_o:.1f}x, max rel diff {err:.1e}) | 'fft' {t_f:.3f} s ({t_h / t_f:.1f}x)"
    )
    libs = ["hypyp", "hypyp-numba"] if numba_ok else ["hypyp"]
    libs += ["hyperalign", "hyperalign-inter"]
    print(
        "   seconds for the metric stage on the same analytic signals; 'hyperalign' computes the "
        "same 2C x 2C\n   matrix as HyPyP, 'hyperalign-inter' only the C x C inter-brain block "
        "(mode='inter', what a\n   dyad analysis needs); x = HyPyP time / hyperalign time; "
        "memory = peak above baseline, HyPyP/hyperalign"
    )
    hdr = f"   {'metric':<14}" + "".join(f"{lib:>17}" for lib in libs)
    hdr += f"{'x default':>10}{'x numba':>9}{'x inter':>8}{'RSS MB':>12}{'tracemalloc MB':>16}"
    print(hdr)
    rows = []
    for m in metrics:
        r = {lib: _run_worker(lib, m, n_ep, n_ch, n_t, sfreq) for lib in libs}
        rows.append(r)
        cells = []
        for lib in libs:
            cells.append(f"{r[lib]['time_s']:17.3f}" if "time_s" in r[lib] else f"{'error':>17}")
        o = r["hyperalign"]
        h = r["hypyp"]
        hn = r.get("hypyp-numba", {})
        sp = h.get("time_s", np.nan) / o.get("time_s", np.nan)
        spn = hn.get("time_s", np.nan) / o.get("time_s", np.nan)
        spi = h.get("time_s", np.nan) / r["hyperalign-inter"].get("time_s", np.nan)
        mem = f"{h.get('peak_rss_mb', np.nan):.0f}/{o.get('peak_rss_mb', np.nan):.0f}"
        tm = f"{h.get('tracemalloc_mb', np.nan):.0f}/{o.get('tracemalloc_mb', np.nan):.0f}"
        print(f"   {m:<14}" + "".join(cells) + f"{sp:10.1f}{spn:9.1f}{spi:8.1f}{mem:>12}{tm:>16}")
        for lib in libs:
            if "error" in r[lib]:
                print(f"      {lib} failed: {r[lib]['error']}")
        if "checksum" in h and "checksum" in o:
            rel = abs(h["checksum"] - o["checksum"]) / max(abs(h["checksum"]), 1e-300)
            if rel > 1e-6:
                print(f"      WARNING: checksums differ (rel {rel:.1e})")
    return rows


def part_end_to_end(n_ep, n_ch, n_t, sfreq, metrics):
    """From raw epochs to synchrony: HyPyP's compute_freq_bands + compute_sync against one
    hyperalign compute_sync call (filter='hypyp', bitwise the same analytic signals)."""
    import hypyp.analyses as ha

    from hyperalign.coupling import compute_sync

    print(
        f"\n== Part 1b: end to end (filtering included) | same data as part 1 | {_load()}\n"
        "   seconds, best of 3; HyPyP default and numba paths (full matrix) vs hyperalign "
        "compute_sync, mode='all' and 'inter'"
    )
    data = _sim(n_ep, n_ch, n_t)

    def hyp(m, opt=None):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            z = ha.compute_freq_bands(data, sfreq, BANDS3)
            return ha.compute_sync(z, m, epochs_average=False, optimization=opt)

    def ours(m, mode):
        return compute_sync(data, sfreq, BANDS3, m, mode=mode, on_short="warn", verbose="error")

    for m in metrics:
        t_h, _ = best_of(functools.partial(hyp, m))
        t_n, _ = best_of(functools.partial(hyp, m, "numba"))
        t_a, _ = best_of(functools.partial(ours, m, "all"))
        t_i, _ = best_of(functools.partial(ours, m, "inter"))
        print(
            f"   {m:<8} HyPyP {t_h:.3f} | HyPyP numba {t_n:.3f} | hyperalign all {t_a:.3f} "
            f"({t_h / t_a:.1f}x, {t_n / t_a:.1f}x numba) | inter {t_i:.3f} ({t_h / t_i:.1f}x, "
            f"{t_n / t_i:.1f}x numba)"
        )


def part_mne_connectivity(quick):
    import mne
    from mne_connectivity import spectral_connectivity_time

    from hyperalign.coupling import sync_from_analytic

    n_ep, n_ch, n_t, sfreq = (5, 8, 256, 128.0) if quick else (20, 16, 512, 256.0)
    freqs = np.array([6.0, 10.0, 20.0])
    print(
        f"\n== Part 2: vs mne-connectivity spectral_connectivity_time (cwt_morlet) | {n_ep} "
        f"epochs x {n_ch}+{n_ch} ch x {n_t} samples, {len(freqs)} freqs | {_load()}"
    )
    d = _sim(n_ep, n_ch, n_t)
    d = np.concatenate([d[0], d[1]], axis=1)
    seeds = np.repeat(np.arange(n_ch), n_ch)
    targets = np.tile(np.arange(n_ch, 2 * n_ch), n_ch)
    warm = np.ones((1, 2, 8), complex) * np.exp(1j * np.arange(8))
    sync_from_analytic(warm, warm * 1j, "wpli")  # numba compile outside the timing
    for method in ["plv", "coh", "wpli"]:
        t0 = time.perf_counter()
        ref = spectral_connectivity_time(
            d, freqs, method=method, indices=(seeds, targets), sfreq=sfreq, mode="cwt_morlet",
            n_cycles=5, faverage=False, average=False, verbose=False,
        ).get_data()  # fmt: skip
        t_ref = time.perf_counter() - t0
        t0 = time.perf_counter()
        w = mne.time_frequency.tfr_array_morlet(
            d, sfreq, freqs, n_cycles=5, output="complex", zero_mean=False, verbose=False
        )
        ours = np.stack(
            [
                sync_from_analytic(w[:, :n_ch, f], w[:, n_ch:, f], method).reshape(n_ep, -1)
                for f in range(len(freqs))
            ],
            axis=-1,
        )
        t_o = time.perf_counter() - t0
        err = np.max(np.abs(ours - ref) / np.maximum(np.abs(ref), 1e-300))
        print(
            f"   {method:<6} mne-connectivity {t_ref:7.3f} s | hyperalign (incl. wavelets) "
            f"{t_o:7.3f} s | {t_ref / t_o:6.1f}x | max rel diff {err:.1e}"
        )


def _gemm_gflops() -> float:
    a = np.random.default_rng(0).standard_normal((1024, 1024)).astype(np.float32)
    a @ a
    best = np.inf
    for _ in range(3):
        t0 = time.perf_counter()
        a @ a
        best = min(best, time.perf_counter() - t0)
    return 2 * 1024**3 / best / 1e9


def part_hour(quick):
    from hyperalign.coupling import compute_sync

    minutes = 2 if quick else 60
    n_ep, n_ch, n_t, sfreq = minutes * 30, 64, 1000, 500.0
    metrics = ["plv", "ccorr", "wpli"]
    print(
        f"\n== Part 3: {minutes} min of a 64+64-channel dyad at 500 Hz | {n_ep} epochs x 2 s, "
        f"5 bands, 4096 pairs, {'+'.join(metrics)}, filter='fft', float32 | {_load()}"
    )
    gf = _gemm_gflops()
    rng = np.random.default_rng(0)
    data = np.empty((2, n_ep, n_ch, n_t), dtype=np.float32)
    for e0 in range(0, n_ep, 100):  # fill in blocks to keep the float64 temporaries small
        blk = rng.standard_normal((2, min(100, n_ep - e0), n_ch, n_t), dtype=np.float32)
        data[:, e0 : e0 + 100] = blk
    compute_sync(
        data[:, :2], sfreq, BANDS5, metrics, filter_method="fft", dtype="float32", min_cycles=2
    )  # warm-up (numba compile)
    _reset_peak()
    base = _rss_bytes()
    t0 = time.perf_counter()
    con = compute_sync(
        data, sfreq, BANDS5, metrics, filter_method="fft", dtype="float32", min_cycles=2
    )
    elapsed = time.perf_counter() - t0
    peak_total = _maxrss_bytes()
    n_pairs = n_ch * n_ch
    pair_samples = n_ep * len(BANDS5) * n_pairs * n_t
    # FLOPs: plv complex product 8, ccorr real product 2, wpli Im product 4 + |Im| sum 4 per
    # pair-sample; filtering ~ 5 N log2 N per FFT (1 forward + 5 inverse per signal)
    flops = pair_samples * (8 + 2 + 8) + 2 * n_ep * n_ch * 6 * 5 * n_t * np.log2(n_t)
    print(
        f"   time {elapsed:.1f} s (target < 60 s for one hour) | peak RSS "
        f"{peak_total / 2**30:.2f} GiB total, {(peak_total - base) / 2**30:.2f} GiB above "
        "the input "
        f"({data.nbytes / 2**30:.2f} GiB) | output {con.get_data().nbytes / 2**30:.2f} GiB"
    )
    print(
        f"   throughput {pair_samples / elapsed / 1e9:.2f} G pair-samples/s, about "
        f"{flops / elapsed / 1e9:.1f} GFLOP/s of ~{flops / 1e12:.2f} TFLOP; this machine's "
        f"float32 matrix product reaches {gf:.0f} GFLOP/s ({flops / elapsed / 1e9 / gf:.0%})"
    )
    return elapsed, peak_total


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="small sizes (seconds)")
    p.add_argument("--skip-hour", action="store_true", help="skip part 3")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        lib, metric, n_ep, n_ch, n_t, sfreq = json.loads(args.worker)
        print(json.dumps(worker(lib, metric, n_ep, n_ch, n_t, sfreq)))
        return
    try:
        import numba  # noqa: F401

        numba_ok = True
    except ImportError:
        numba_ok = False
        print("numba is not installed: HyPyP's numba path is not measured")
    import hypyp

    print(f"HyPyP {hypyp.__version__} | numpy {np.__version__} | {_load()}")
    if args.quick:
        part_hypyp(10, 8, 256, 256.0, ["plv", "ccorr", "accorr", "wpli"], numba_ok)
        if numba_ok:
            part_end_to_end(10, 8, 256, 256.0, ["plv", "wpli"])
    else:
        part_hypyp(60, 31, 256, 256.0, HYPYP_METRICS, numba_ok)
        if numba_ok:  # HyPyP's default pli/wpli take ~18 s per call
            part_end_to_end(60, 31, 256, 256.0, ["plv", "ccorr", "coh", "envelope_corr"])
    part_mne_connectivity(args.quick)
    if not args.skip_hour:
        part_hour(args.quick)


if __name__ == "__main__":
    main()
