"""Time flowgrad's standard workload in PyTorch, as flowgrad's bench times it.

The standard workload (flowgrad's DESIGN.md): MLP 784-256-256-10 with ReLU,
float32, inputs pixel/255, softmax cross-entropy averaged over the batch,
SGD at rate 0.05 with heavy-ball momentum 0.9 (torch.optim.SGD's default
form), real MNIST. flowgrad's bench (go run ./bench, section "pytorch")
writes the training images and labels as raw uint8 files and runs this
script in a fresh process per thread count; the pixels are converted to
float32 once, before any timing.

Per batch size B: warm-up steps on batches of a separate shuffle, then
--passes timed passes over the first --online-examples examples (B = 1) or
--max-examples (B > 1), each in a new random order (a pass that has
stepped for --max-pass-seconds ends early: with two threads on a crowded
machine PyTorch can slow a hundredfold). The batch is gathered
before its step starts (flowgrad's Batcher is not timed either); only the
step is timed: forward, loss, zero_grad(set_to_none=True), backward,
optimizer step (SGD with foreach=True, PyTorch's faster form). The
median pass rate gives examples/s. One JSON object per B is written to standard
output.

    python3 step.py --images X.u8 --labels Y.u8 --n 60000 --threads 1
"""

import argparse
import json
import statistics
import sys
import time

import torch
import torch.nn.functional as F


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--images", required=True, help="raw uint8 pixels, n×784, row-major")
    p.add_argument("--labels", required=True, help="raw uint8 labels, n")
    p.add_argument("--n", type=int, required=True, help="number of examples in the files")
    p.add_argument("--batches", default="1,10,100,256,1000", help="comma-separated batch sizes")
    p.add_argument("--threads", type=int, required=True, help="torch.set_num_threads")
    p.add_argument("--online-examples", type=int, default=10000, help="examples per pass at B = 1")
    p.add_argument("--max-examples", type=int, default=60000, help="examples per pass at B > 1")
    p.add_argument("--warmup", type=int, default=10, help="warm-up steps (at most 20000/B)")
    p.add_argument("--passes", type=int, default=2, help="timed passes; the median is kept")
    p.add_argument("--max-pass-seconds", type=float, default=6,
                   help="end a pass early after this much timed stepping (its rate still counts)")
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args(argv)
    a.batches = [int(b) for b in a.batches.split(",") if b.strip()]
    if a.threads < 1 or a.passes < 1 or a.n < 1 or any(b < 1 or b > a.n for b in a.batches):
        p.error("bad --threads, --passes, --n or --batches")
    return a


def load(a):
    with open(a.images, "rb") as f:
        pixels = f.read()
    with open(a.labels, "rb") as f:
        labels = f.read()
    if len(pixels) != a.n * 784 or len(labels) != a.n:
        raise SystemExit(f"step.py: {a.images}: {len(pixels)} bytes, {a.labels}: {len(labels)} bytes; want {a.n}×784 and {a.n}")
    x = torch.frombuffer(bytearray(pixels), dtype=torch.uint8).reshape(a.n, 784).float().div_(255)
    y = torch.frombuffer(bytearray(labels), dtype=torch.uint8).long()
    return x, y


def blas_library():
    """The BLAS shared library this process loaded (to tell OpenBLAS from the reference BLAS)."""
    try:
        with open("/proc/self/maps") as f:
            libs = {line.split()[-1] for line in f if "blas" in line.lower() and "/" in line}
        return ", ".join(sorted(libs))
    except OSError:
        return ""


def measure(x, y, b, a, gen):
    model = torch.nn.Sequential(
        torch.nn.Linear(784, 256), torch.nn.ReLU(),
        torch.nn.Linear(256, 256), torch.nn.ReLU(),
        torch.nn.Linear(256, 10))
    # foreach=True (multi-tensor update) is PyTorch 1.13's faster SGD on CPU:
    # 3 170 against 2 940 examples/s at B = 1 here.
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, foreach=True)
    limit = min(a.online_examples if b == 1 else a.max_examples, x.shape[0])

    def step(xb, yb):
        loss = F.cross_entropy(model(xb), yb)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss

    perm = torch.randperm(x.shape[0], generator=gen)
    for i in range(max(1, min(a.warmup, 20000 // b))):
        idx = perm[(i * b) % (x.shape[0] - b + 1):][:b]
        step(x.index_select(0, idx), y.index_select(0, idx))

    pass_sec, pass_ex, step_sec = [], [], []
    examples = steps = 0
    truncated = False
    for _ in range(a.passes):
        perm = torch.randperm(limit, generator=gen)
        elapsed, examples, steps = 0.0, 0, 0
        for lo in range(0, limit, b):
            if elapsed > a.max_pass_seconds:
                truncated = True  # a crowded machine: keep the rate so far
                break
            idx = perm[lo:lo + b]
            xb, yb = x.index_select(0, idx), y.index_select(0, idx)
            t0 = time.perf_counter()
            loss = step(xb, yb)
            d = time.perf_counter() - t0
            elapsed += d
            if idx.numel() == b:
                step_sec.append(d)
            examples += idx.numel()
            steps += 1
        pass_sec.append(elapsed)
        pass_ex.append(examples)
    final = float(loss)
    rates = sorted(e / s for e, s in zip(pass_ex, pass_sec))
    rate = statistics.median(rates)
    return {
        "impl": "pytorch",
        "batch": b,
        "threads": torch.get_num_threads(),
        "examples": examples,
        "steps": steps,
        "passes": a.passes,
        "seconds": statistics.median(pass_sec),
        "examples_per_s": rate,
        "truncated": truncated,
        "median_step_s": statistics.median(step_sec) if step_sec else 0.0,
        "final_loss": final if final == final and abs(final) != float("inf") else None,
        "version": "PyTorch " + torch.__version__,
        "blas": blas_library(),
    }


def main(argv):
    a = parse_args(argv)
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    gen = torch.Generator().manual_seed(a.seed)
    x, y = load(a)
    for b in a.batches:
        print(json.dumps(measure(x, y, b, a, gen)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
