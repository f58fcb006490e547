#!/usr/bin/python3
"""The two synthetic 100 000-row tables behind the large-table defaults of
`flowgrad train` (weight decay shrinking as 1000/rows, patience of about
3000 steps; docs/tabular.md, "What train does").

  * regression: 20 features N(0, 1), y = x0 + … + x4 + N(0, 0.1²);
    100 000 training rows, 20 000 test rows after them (Python's random,
    seed 1);
  * classification: 10 features N(0, 1), 3 classes: the argmax of three
    random linear functions plus 0.5·sin(2·x0..2) and noise (NumPy, seed 3).

It writes both into a temporary folder, trains each with the given
flowgrad binary and default flags (or the extra flags after the binary;
--old-decay adds the fixed weight decay of before, 0.1 for the regression
and 0.03 for the classes), and prints the wall time, the best validation
line and, for the regression, the test R².

    go build -o /tmp/flowgrad ./cmd/flowgrad
    /usr/bin/python3 docs/tabular/large.py /tmp/flowgrad                          # the defaults
    /usr/bin/python3 docs/tabular/large.py /tmp/flowgrad -patience 200            # the old patience
    /usr/bin/python3 docs/tabular/large.py /tmp/flowgrad -epochs 10               # the decay alone …
    /usr/bin/python3 docs/tabular/large.py /tmp/flowgrad -epochs 10 --old-decay   # … against the old

With --big PATH it only writes the regression table's first 1 000 000 rows
(the same generator, 157 MB) to PATH: big.csv of docs/benchmarks.md's
memory measurements of flowgrad train and predict.

    /usr/bin/python3 docs/tabular/large.py --big /tmp/big.csv
"""
import os
import random
import re
import subprocess
import sys
import tempfile
import time

import numpy as np


def regression(path, test_path, train_rows=100000, test_rows=20000):
    random.seed(1)
    with open(path, "w") as f, open(test_path, "w") as g:
        header = ",".join(f"x{j}" for j in range(20)) + ",y\n"
        f.write(header)
        g.write(header)
        for i in range(train_rows + test_rows):
            xs = [random.gauss(0, 1) for _ in range(20)]
            y = sum(xs[:5]) + 0.1 * random.gauss(0, 1)
            (f if i < train_rows else g).write(",".join(f"{v:.4f}" for v in xs) + f",{y:.4f}\n")


def classification(path):
    rng = np.random.default_rng(3)
    n = 100000
    X = rng.normal(size=(n, 10))
    W = rng.normal(size=(10, 3))
    z = X @ W + 0.5 * np.sin(2 * X[:, :3])
    y = np.argmax(z + 0.3 * rng.normal(size=z.shape), axis=1)
    with open(path, "w") as f:
        f.write(",".join(f"x{j}" for j in range(10)) + ",label\n")
        for i in range(n):
            f.write(",".join(f"{v:.4f}" for v in X[i]) + f",c{y[i]}\n")


def main():
    if sys.argv[1] == "--big":
        regression(sys.argv[2], os.devnull, 1000000, 0)
        return
    binary, flags = sys.argv[1], [f for f in sys.argv[2:] if f != "--old-decay"]
    old_decay = "--old-decay" in sys.argv[2:]
    with tempfile.TemporaryDirectory() as tmp:
        reg, reg_test, cls = (os.path.join(tmp, n) for n in ("reg.csv", "reg_test.csv", "cls.csv"))
        regression(reg, reg_test)
        classification(cls)
        for name, data in (("regression", reg), ("classification", cls)):
            model = os.path.join(tmp, name + ".fgm")
            t0 = time.time()
            extra = ["-weight-decay", "0.1" if name == "regression" else "0.03"] if old_decay else []
            out = subprocess.run([binary, "train", "-data", data, "-model", model, "-progress", "off"] + flags + extra,
                                 check=True, capture_output=True, text=True).stdout
            took = time.time() - t0
            best = re.search(r"best validation.*", out).group(0)
            line = f"{name}: {took:.1f} s, {best}"
            if name == "regression":
                ev = subprocess.run([binary, "eval", "-model", model, "-data", reg_test],
                                    check=True, capture_output=True, text=True).stdout
                line += ", test R² " + re.search(r"R²\s+(\S+)", ev).group(1)
            print(line, flush=True)


if __name__ == "__main__":
    main()
