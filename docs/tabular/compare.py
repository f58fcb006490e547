#!/usr/bin/python3
"""Compare `flowgrad train` defaults with scikit-learn's MLP on small public tables.

For each table (Iris, Wine, Breast cancer: classification; Diabetes:
regression — the copies that ship with scikit-learn) and each seed, the
script makes one stratified (classes) or plain (regression) 80/20 split,
writes train.csv and test.csv, and fits on the same split:

  * scikit-learn's MLPClassifier/MLPRegressor with hidden_layer_sizes=(64, 64),
    random_state=seed, otherwise defaults, four ways: as it is ("sk") and
    behind a StandardScaler in a Pipeline ("sk+sc", the setting scikit-learn's
    docs recommend), each with its default max_iter=200 (which stops before
    convergence on some tables, with a ConvergenceWarning) and with
    max_iter=2000 ("sk2000", "sk+sc2000");
  * flowgrad: `flowgrad train -data train.csv -target <name> -seed <seed>`
    with no other flag, then `flowgrad eval -data test.csv`.

It prints test accuracy (classes) or R² (regression) per seed and the mean.
Usage (Debian's python3-sklearn; the flowgrad binary built first):

    go build -o /tmp/flowgrad ./cmd/flowgrad
    /usr/bin/python3 docs/tabular/compare.py /tmp/flowgrad [seeds [first seed]]
"""
import csv
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import warnings

from sklearn import datasets
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

TABLES = [
    ("iris", datasets.load_iris, "classification"),
    ("wine", datasets.load_wine, "classification"),
    ("breast_cancer", datasets.load_breast_cancer, "classification"),
    ("diabetes", datasets.load_diabetes, "regression"),
]


def write_csv(path, names, X, y, target):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(list(names) + [target])
        for row, t in zip(X, y):
            w.writerow([repr(float(v)) for v in row] + [t])


def flowgrad_score(binary, tmp, target, seed, kind):
    model = os.path.join(tmp, "model.fgm")
    t0 = time.time()
    subprocess.run([binary, "train", "-data", os.path.join(tmp, "train.csv"), "-target", target,
                    "-model", model, "-seed", str(seed), "-progress", "off"] + os.environ.get("FLOWGRAD_FLAGS", "").split(),
                   check=True, capture_output=True, text=True)
    secs = time.time() - t0
    out = subprocess.run([binary, "eval", "-model", model, "-data", os.path.join(tmp, "test.csv")],
                         check=True, capture_output=True, text=True).stdout
    key = "accuracy" if kind == "classification" else "R²"
    m = re.search(key + r"\s+(-?[0-9.]+)(%?)", out)
    if not m:
        raise SystemExit("cannot find %s in flowgrad eval output:\n%s" % (key, out))
    v = float(m.group(1))
    return (v / 100 if m.group(2) == "%" else v), secs


def main():
    binary = sys.argv[1]
    first = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    seeds = range(first, first + (int(sys.argv[2]) if len(sys.argv) > 2 else 5))
    warnings.simplefilter("ignore", ConvergenceWarning)
    print("%-14s %-14s %5s  %10s %10s %10s %10s  %10s  %8s" % ("table", "task", "seed", "sk", "sk+sc", "sk2000", "sk+sc2000", "flowgrad", "fg s"))
    summary = []
    only = os.environ.get("TABLES", "").split(",")
    for name, load, kind in TABLES:
        if only != [""] and name not in only:
            continue
        b = load()
        X, y = b.data, b.target
        target = "class" if kind == "classification" else "progression"
        # scikit-learn four ways: as named and behind a StandardScaler, each
        # with its default max_iter (200, stopping before convergence on
        # some tables) and with max_iter=2000.
        variants = [("sk", False, 200), ("sk+sc", True, 200), ("sk2000", False, 2000), ("sk+sc2000", True, 2000)]
        scores = {v[0]: [] for v in variants}
        fg = []
        for seed in seeds:
            strat = y if kind == "classification" else None
            Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.2, random_state=seed, stratify=strat)
            with tempfile.TemporaryDirectory() as tmp:
                if kind == "classification":
                    labels = [b.target_names[i] for i in ytr], [b.target_names[i] for i in yte]
                else:
                    labels = [repr(float(v)) for v in ytr], [repr(float(v)) for v in yte]
                write_csv(os.path.join(tmp, "train.csv"), b.feature_names, Xtr, labels[0], target)
                write_csv(os.path.join(tmp, "test.csv"), b.feature_names, Xte, labels[1], target)
                est = MLPClassifier if kind == "classification" else MLPRegressor
                row = []
                for key, scaled, iters in variants:
                    m = est(hidden_layer_sizes=(64, 64), random_state=seed, max_iter=iters)
                    if scaled:
                        m = make_pipeline(StandardScaler(), m)
                    scores[key].append(m.fit(Xtr, ytr).score(Xte, yte))  # accuracy, or R²
                    row.append(scores[key][-1])
                f, fgs = flowgrad_score(binary, tmp, target, seed, kind)
            fg.append(f)
            print("%-14s %-14s %5d  " % (name, kind, seed) + " ".join("%10.4f" % v for v in row) + "  %10.4f  %8.2f" % (f, fgs), flush=True)
        summary.append((name, kind, [statistics.mean(scores[v[0]]) for v in variants], statistics.mean(fg)))
    print()
    print("%-14s %-9s  " % ("table", "metric") + " ".join("%10s" % v[0] for v in variants) + "  %10s" % "flowgrad")
    for name, kind, sks, f in summary:
        print("%-14s %-9s  " % (name, "accuracy" if kind == "classification" else "R²") + " ".join("%10.4f" % v for v in sks) + "  %10.4f" % f)


if __name__ == "__main__":
    main()
