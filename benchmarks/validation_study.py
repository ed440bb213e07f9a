"""Validation by simulation: power and false-positive rate of the semantic-beyond-acoustics test.

Each simulated study runs the real pipeline:

1. ``hyperalign.simulation.simulate_study`` (8 dyads, 8 EEG channels at 128 Hz, no audio;
   listener lag of the shared component fixed at ``--lag`` s so that one lag is analysed);
2. theta-band PLV per utterance in the planted coupling ROI with the coupling engine
   (``compute_dyad_sync`` + ``summarize_utterances``); epochs shorter than
   ``--min-duration`` s are excluded (counted);
3. predictors from the ground truth: ``semantic_alignment`` (MiniLM cosine of the turn with
   the previous turn, from the shipped corpus embeddings) and ``acoustic_similarity`` (the
   planted prosodic similarity; the acoustic feature extraction is validated separately in
   ``tests/features``), both z-scored within dyad (the simulator's generative model uses
   within-dyad z-scores), plus utterance duration as a covariate;
4. ``test_semantic_beyond_acoustics`` (LRT p-value and a 200-permutation p-value) with the
   acoustic control, and the naive model without it.

Conditions: ``power`` (default semantic coupling) and ``null`` (``null=True``: semantic
coupling 0, acoustic similarity correlated with semantic alignment and driving synchrony).
Results are appended to a CSV as studies finish (``--out``), so a run can be stopped and
summarized at any time with ``--summarize``. One study is
``hyperalign.stats._simstudy.run_validation_study`` (shared with the reduced
``tests/stats/test_validation.py``); the warnings a study raised are in its row
(``n_warnings``, ``warnings``).

Run: ``.venv/bin/python benchmarks/validation_study.py --condition null --n-studies 200``
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

ALPHA = 0.05


def read_results(path) -> pd.DataFrame:
    """Read a results CSV (the condition named 'null' must not become NaN)."""
    return pd.read_csv(path, keep_default_na=False, na_values=[""])


def summarize(df: pd.DataFrame, alpha: float = ALPHA) -> pd.DataFrame:
    """Rejection rates with Monte-Carlo SE per condition and test (failed studies counted)."""
    rows = []
    if "error" in df:
        failed = df["error"].fillna("").astype(str) != ""
        for cond, n_f in df[failed].groupby("condition").size().items():
            print(f"{cond}: {n_f} stud(ies) failed and are excluded from the rates: "
                  + "; ".join(df[failed & (df.condition == cond)].apply(
                      lambda r: f"seed {r.seed}: {r.error}", axis=1)))  # fmt: skip
        df = df[~failed]
    for cond, sub in df.groupby("condition"):
        n = len(sub)
        for test in ("p_lrt", "p_perm", "naive_p_lrt", "naive_p_perm"):
            r = float((sub[test] <= alpha).mean())
            rows.append({"condition": cond, "test": test, "n_studies": n, "rate": r,
                         "mc_se": float(np.sqrt(max(r * (1 - r), 1e-12) / n))})  # fmt: skip
    return pd.DataFrame(rows)


def plot_summary(summary: pd.DataFrame, path) -> None:
    """Bar plot of rejection rates ± 2 MC SE (power and false-positive rates)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from hyperalign.utils import atomic_path

    labels = {"p_lrt": "LRT, acoustic control", "p_perm": "permutation, acoustic control",
              "naive_p_lrt": "LRT, naive (no acoustics)",
              "naive_p_perm": "permutation, naive"}  # fmt: skip
    conds = [c for c in ("null", "power") if c in set(summary.condition)]
    fig, axes = plt.subplots(1, len(conds), figsize=(6.5 * len(conds), 3.4), squeeze=False)
    for ax, cond in zip(axes[0], conds):
        sub = summary[summary.condition == cond]
        y = np.arange(len(sub))
        ax.barh(y, sub["rate"], xerr=2 * sub["mc_se"], color=["C0", "C0", "C3", "C3"][: len(sub)])
        ax.set_yticks(y, [labels[t] for t in sub["test"]])
        ax.axvline(0.05 if cond == "null" else 0.8, color="k", ls="--", lw=1)
        n = int(sub["n_studies"].iloc[0])
        title = "false positives, confounded null" if cond == "null" else "power, default effect"
        ax.set_title(f"{title} ({n} studies)", fontsize=10)
        ax.set_xlim(0, 1)
        ax.set_xlabel("rejection rate at alpha = 0.05 (bars: ± 2 MC SE)")
    fig.tight_layout()
    tmp, final = atomic_path(path)
    fig.savefig(tmp, dpi=110, format="png")
    import os

    os.replace(tmp, final)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--condition", choices=["power", "null"], default="null")
    ap.add_argument("--n-studies", type=int, default=200)
    ap.add_argument("--n-dyads", type=int, default=8)
    ap.add_argument("--duration", type=float, default=300.0)
    ap.add_argument("--lag", type=float, default=0.15)
    ap.add_argument("--n-permutations", type=int, default=200)
    ap.add_argument("--seed0", type=int, default=0)
    ap.add_argument(
        "--semantic-coupling",
        type=float,
        default=None,
        help="power condition: override the simulator's default semantic_coupling",
    )
    ap.add_argument("--n-jobs", type=int, default=2)
    ap.add_argument("--out", default="benchmarks/results/validation_{condition}.csv")
    ap.add_argument("--summarize", nargs="*", help="CSV files to summarize (no simulation)")
    ap.add_argument("--plot", default=None, help="with --summarize: write a PNG figure here")
    args = ap.parse_args(argv)
    if args.summarize is not None:
        files = args.summarize or sorted(Path("benchmarks/results").glob("validation_*.csv"))
        df = pd.concat([read_results(f) for f in files], ignore_index=True)
        summ = summarize(df)
        print(summ.to_string(index=False))
        if args.plot:
            plot_summary(summ, args.plot)
        return
    from joblib import Parallel, delayed

    from hyperalign.stats.validation import run_validation_study_safe
    from hyperalign.utils import atomic_write

    label = args.condition
    if args.semantic_coupling is not None:
        kw_sim = {"semantic_coupling": args.semantic_coupling}
        label = f"{args.condition}_sc{args.semantic_coupling:g}"
    else:
        kw_sim = None
    out = Path(args.out.format(condition=label))
    done = read_results(out) if out.exists() else pd.DataFrame()
    seeds = [s for s in range(args.seed0, args.seed0 + args.n_studies)
             if done.empty or s not in set(done["seed"])]  # fmt: skip
    rows = done.to_dict("records")
    kw = dict(n_dyads=args.n_dyads, duration=args.duration, lag=args.lag,
              n_permutations=args.n_permutations, sim_kwargs=kw_sim)  # fmt: skip
    jobs = (delayed(run_validation_study_safe)(s, args.condition, **kw) for s in seeds)
    for row in Parallel(n_jobs=args.n_jobs, return_as="generator_unordered")(jobs):
        row["condition"] = label
        rows.append(row)
        with atomic_write(out, "w", newline="") as fh:
            pd.DataFrame(rows).sort_values("seed").to_csv(fh, index=False)
        df = pd.DataFrame(rows)
        r = (df.p_lrt <= ALPHA).sum() / df.p_lrt.notna().sum()
        if row["error"]:
            print(f"seed {row['seed']} failed: {row['error']}", flush=True)
            continue
        print(f"[{len(df)}/{args.n_studies}] seed {row['seed']}: p_lrt={row['p_lrt']:.3g} "
              f"p_perm={row['p_perm']:.3g} naive={row['naive_p_lrt']:.3g} "
              f"({row['t_total']:.0f} s) | rejection rate {r:.3f}", flush=True)  # fmt: skip
    print(summarize(pd.DataFrame(rows)).to_string(index=False))


if __name__ == "__main__":
    main()
