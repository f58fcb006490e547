#!/usr/bin/python3
"""scikit-learn's MLPClassifier((64, 64)) on Iris by input scaling and max_iter.

For seeds 1–40 it makes the same stratified 80/20 splits as compare.py and
prints the mean test accuracy of scikit-learn's MLP (otherwise defaults,
random_state=seed) for each input scaling — raw, centred with one common
scale (what flowgrad's -scale-features auto does to Iris), standardised
each — and each max_iter. docs/tabular.md ("The Iris gap") shows the table.

    /usr/bin/python3 docs/tabular/sk_budget.py
"""
import warnings

import numpy as np
from sklearn import datasets
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier

ITERS = [50, 100, 200, 400, 2000]


def scale(mode, Xtr, Xte):
    mu, sd = Xtr.mean(0), Xtr.std(0)
    if mode == "joint":
        sd = np.sqrt((sd ** 2).mean())
    elif mode == "raw":
        return Xtr, Xte
    return (Xtr - mu) / sd, (Xte - mu) / sd


def main():
    warnings.simplefilter("ignore", ConvergenceWarning)
    b = datasets.load_iris()
    print("%-6s" % "input" + "".join("%9d" % i for i in ITERS))
    for mode in ["raw", "joint", "each"]:
        acc = {i: [] for i in ITERS}
        for seed in range(1, 41):
            Xtr, Xte, ytr, yte = train_test_split(b.data, b.target, test_size=0.2, random_state=seed, stratify=b.target)
            Xtr, Xte = scale(mode, Xtr, Xte)
            for i in ITERS:
                m = MLPClassifier(hidden_layer_sizes=(64, 64), random_state=seed, max_iter=i)
                acc[i].append(m.fit(Xtr, ytr).score(Xte, yte))
        print("%-6s" % mode + "".join("%9.4f" % np.mean(acc[i]) for i in ITERS), flush=True)


if __name__ == "__main__":
    main()
